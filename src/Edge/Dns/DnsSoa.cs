namespace Edge.Dns;

/// <summary>The SOA fields negative caching needs (RFC 2308 §5: the negative TTL is min(SOA TTL, MINIMUM)).</summary>
internal sealed record DnsSoa(string PrimaryServer, string Mailbox, uint Serial, uint Minimum);
