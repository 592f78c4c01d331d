namespace Edge.Dns;

/// <summary>
/// A lookup's outcome before it is typed for the caller: the status, the records of the asked type at the end
/// of any CNAME chain, and how long the whole may be reused.
/// </summary>
internal sealed record DnsResult(DnsStatus Status, IReadOnlyList<DnsRecord> Records, TimeSpan Ttl)
{
    public static DnsResult Failure(DnsStatus status) => new(status, [], TimeSpan.Zero);
}
