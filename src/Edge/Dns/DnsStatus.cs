namespace Edge.Dns;

/// <summary>
/// The outcome of a lookup. NoData and NxDomain are answers (the name has no such record, or does not exist);
/// ServFail, Refused, Timeout and FormatError mean no server gave an answer, so the caller should defer.
/// </summary>
internal enum DnsStatus : byte
{
    Ok,
    NoData,
    NxDomain,
    ServFail,
    Refused,
    Timeout,
    FormatError,
}
