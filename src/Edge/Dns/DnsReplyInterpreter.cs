namespace Edge.Dns;

/// <summary>
/// Turns a NOERROR or NXDOMAIN reply into an answer: follows the CNAME chain from the queried name through the
/// answer section, takes the records of the asked type owned by the end of the chain (records owned by any
/// other name are ignored), and works out how long the answer may be kept.
/// </summary>
internal static class DnsReplyInterpreter
{
    /// <summary>
    /// The answer, or with <c>Dangling</c> set the name the chain ends at when the reply neither resolves it
    /// nor says it has no data (no SOA): the resolver then asks for that name itself, and the result's TTL is
    /// the chain's.
    /// </summary>
    public static (DnsResult Result, string? Dangling) Interpret(
        DnsMessage reply, string name, DnsRecordType type, TimeSpan maxTtl)
    {
        string current = name;
        uint chainTtl = uint.MaxValue;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { name };
        List<DnsRecord> found = [];
        for (int hops = 0; ; hops++)
        {
            found = reply.Answers.Where(r => r.Type == type && IsOwnedBy(r, current)).ToList();
            if (found.Count > 0)
            {
                break;
            }
            DnsRecord? alias = reply.Answers.FirstOrDefault(r => r.Type == DnsRecordType.CNAME && IsOwnedBy(r, current));
            if (alias is null)
            {
                break;
            }
            chainTtl = Math.Min(chainTtl, alias.Ttl);
            current = (string)alias.Data!;
            if (!seen.Add(current) || hops >= DnsResolver.MaxCnameHops)
            {
                return (DnsResult.Failure(DnsStatus.ServFail), null);
            }
        }

        uint? negativeTtl = NegativeTtl(reply);
        if (reply.ResponseCode == DnsResponseCode.NameError)
        {
            // RFC 6604: after a CNAME, NXDOMAIN is about the last name of the chain — the answer all the same.
            return (new DnsResult(DnsStatus.NxDomain, [], Ttl(Math.Min(chainTtl, negativeTtl ?? 0), maxTtl)), null);
        }
        if (found.Count > 0)
        {
            uint ttl = Math.Min(chainTtl, found.Min(r => r.Ttl));
            return (new DnsResult(DnsStatus.Ok, found, Ttl(ttl, maxTtl)), null);
        }
        if (!DnsName.Equal(current, name) && negativeTtl is null)
        {
            return (new DnsResult(DnsStatus.NoData, [], Ttl(chainTtl, maxTtl)), current);
        }
        return (new DnsResult(DnsStatus.NoData, [], Ttl(Math.Min(chainTtl, negativeTtl ?? 0), maxTtl)), null);
    }

    /// <summary>
    /// RFC 2308 §5: a negative answer is kept for the smaller of the SOA record's TTL and its MINIMUM field.
    /// Without an SOA there is nothing to go by (§5: "SHOULD NOT be cached"): null.
    /// </summary>
    private static uint? NegativeTtl(DnsMessage reply)
    {
        DnsRecord? soa = reply.Authorities.FirstOrDefault(r => r.Type == DnsRecordType.SOA && r.Class == DnsQuestion.ClassIn);
        return soa is null ? null : Math.Min(soa.Ttl, ((DnsSoa)soa.Data!).Minimum);
    }

    private static bool IsOwnedBy(DnsRecord record, string name) =>
        record.Class == DnsQuestion.ClassIn && DnsName.Equal(record.Name, name);

    private static TimeSpan Ttl(uint seconds, TimeSpan max) =>
        seconds >= max.TotalSeconds ? max : TimeSpan.FromSeconds(seconds);
}
