using System.Net;
using Edge.Config;
using Edge.Net;

namespace Edge.Smtp.BeforeQueue;

/// <summary>
/// smtpd_proxy_filter: the before-queue content filter a listener hands each transaction to (host:port, inet:host:port
/// or unix:/path), with smtpd_proxy_timeout, the name Edge greets it with (smtpd_proxy_ehlo) and, for
/// smtpd_proxy_options = speed_adjust, the directory where a transaction is kept until its whole message has arrived.
/// </summary>
internal sealed record ProxyFilterSettings(string Name, EndPoint Endpoint, TimeSpan Timeout, string EhloName, string? SpeedAdjustDirectory = null)
{
    public static ProxyFilterSettings? From(MainConfig config)
    {
        string value = config.Get("smtpd_proxy_filter").Trim();
        if (value.Length == 0)
        {
            return null;
        }
        bool speedAdjust = false;
        foreach (string option in config.GetList("smtpd_proxy_options"))
        {
            speedAdjust |= option.Equals("speed_adjust", StringComparison.OrdinalIgnoreCase)
                ? true : throw config.Error("smtpd_proxy_options", $"unknown option \"{option}\" (the one option is speed_adjust)");
        }
        TimeSpan timeout = config.GetTime("smtpd_proxy_timeout");
        string ehlo = config.Get("smtpd_proxy_ehlo") is { Length: > 0 } name ? name : config.Get("myhostname");
        string queue = config.Get("queue_directory");
        return ServiceEndpoint.Parse(value, queue) is { } endpoint
            ? new ProxyFilterSettings(value, endpoint, timeout, ehlo, speedAdjust ? queue : null)
            : throw config.Error("smtpd_proxy_filter", $"bad proxy filter \"{value}\" (host:port, inet:host:port or unix:/path)");
    }
}
