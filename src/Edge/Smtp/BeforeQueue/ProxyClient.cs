namespace Edge.Smtp.BeforeQueue;

/// <summary>The client of the transaction, as XFORWARD tells a before-queue filter about it (null when Edge does not know).</summary>
internal sealed record ProxyClient(string Name, string Address, string Port, string Protocol, string? Helo);
