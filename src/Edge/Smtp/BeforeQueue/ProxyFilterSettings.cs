using System.Net;
using Edge.Config;
using Edge.Net;

namespace Edge.Smtp.BeforeQueue;

/// <summary>
/// smtpd_proxy_filter: the before-queue content filter a listener hands each transaction to (host:port, inet:host:port
/// or unix:/path), with smtpd_proxy_timeout and the name Edge greets it with (smtpd_proxy_ehlo).
/// </summary>
internal sealed record ProxyFilterSettings(string Name, EndPoint Endpoint, TimeSpan Timeout, string EhloName)
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
        return ServiceEndpoint.Parse(value, config.Get("queue_directory")) is { } endpoint
            ? new ProxyFilterSettings(value, endpoint, timeout, ehlo)
            : throw config.Error("smtpd_proxy_filter", $"bad proxy filter \"{value}\" (host:port, inet:host:port or unix:/path)");
    }
}
