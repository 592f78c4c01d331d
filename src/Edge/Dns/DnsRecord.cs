namespace Edge.Dns;

/// <summary>
/// One resource record of a reply. <see cref="Data"/> is decoded for the types the resolver uses: an IPAddress
/// (A, AAAA), an <see cref="MxRecord"/> (MX), the concatenated strings (TXT), the target name (CNAME, PTR, NS),
/// a <see cref="DnsSoa"/> (SOA); null for other types.
/// </summary>
internal sealed record DnsRecord(string Name, DnsRecordType Type, ushort Class, uint Ttl, object? Data);
