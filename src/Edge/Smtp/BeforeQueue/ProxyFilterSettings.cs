using Edge.Config;

namespace Edge.Smtp.BeforeQueue;

/// <summary>
/// smtpd_proxy_filter: the before-queue content filter a listener hands each transaction to (host:port, inet:host:port
/// or unix:/path), with smtpd_proxy_timeout and the name Edge greets it with (smtpd_proxy_ehlo).
/// </summary>
internal sealed record ProxyFilterSettings(string Name, string? Host, int Port, string? SocketPath, TimeSpan Timeout, string EhloName)
{
    public static ProxyFilterSettings? From(MainConfig config)
    {
        string value = config.Get("smtpd_proxy_filter").Trim();
        if (value.Length == 0)
        {
            return null;
        }
        TimeSpan timeout = config.GetTime("smtpd_proxy_timeout");
        string ehlo = config.Get("smtpd_proxy_ehlo") is { Length: > 0 } name ? name : config.Get("myhostname");
        if (value.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = value[5..];
            return new ProxyFilterSettings(value, null, 0, Path.IsPathRooted(path) ? path : Path.Combine(config.Get("queue_directory"), path), timeout, ehlo);
        }
        string endpoint = value.StartsWith("inet:", StringComparison.Ordinal) ? value[5..] : value;
        int colon = endpoint.LastIndexOf(':');
        return colon > 0 && int.TryParse(endpoint[(colon + 1)..], out int port) && port is > 0 and < 65536
            ? new ProxyFilterSettings(value, endpoint[..colon].Trim('[', ']'), port, null, timeout, ehlo)
            : throw config.Error("smtpd_proxy_filter", $"bad proxy filter \"{value}\" (host:port, inet:host:port or unix:/path)");
    }
}
