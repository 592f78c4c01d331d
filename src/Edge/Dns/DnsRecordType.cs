namespace Edge.Dns;

/// <summary>The record types the resolver asks for or reads (RFC 1035, 3596, 6891).</summary>
internal enum DnsRecordType : ushort
{
    A = 1,
    NS = 2,
    CNAME = 5,
    SOA = 6,
    PTR = 12,
    MX = 15,
    TXT = 16,
    AAAA = 28,
    OPT = 41,
}
