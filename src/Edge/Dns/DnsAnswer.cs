namespace Edge.Dns;

/// <summary>
/// What a lookup found. <see cref="Ttl"/> is how long the answer may be reused (what is left of it when it came
/// from the cache); zero for failures, which are never cached.
/// </summary>
internal sealed record DnsAnswer<T>(DnsStatus Status, IReadOnlyList<T> Records, TimeSpan Ttl);
