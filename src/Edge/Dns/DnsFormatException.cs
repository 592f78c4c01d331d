namespace Edge.Dns;

/// <summary>A packet that does not follow the wire format. Caught inside the resolver; never leaves it.</summary>
internal sealed class DnsFormatException(string message) : Exception(message);
