using System.Security.Cryptography.X509Certificates;
using System.Text;
using Edge.Config;
using Edge.Dns;
using Edge.Net;
using Edge.Restrictions.Policy.Store;
using Edge.Smtp.Tls;

namespace Edge.Smtp.Screen;

/// <summary>What postscreen(8) does to a client that fails a test: nothing, reject its recipients, or hang up.</summary>
internal enum ScreenAction
{
    Ignore,
    Enforce,
    Drop,
}

/// <summary>tlsproxy(8)'s server role, which does the handshake after postscreen's STARTTLS.</summary>
internal sealed record ScreenTlsProxy(X509Certificate2 Certificate, ServerTlsSettings Settings);

/// <summary>
/// One postscreen service's settings, from main.cf with the postscreen line's -o overrides: as in Postfix, those change
/// what postscreen does (its banner, its reply to a client it rejects), never the smtpd it hands clients to.
/// </summary>
internal sealed class ScreenSettings
{
    public required string MyHostname { get; init; }

    /// <summary>The greeting of postscreen's own SMTP engine: "220 $smtpd_banner".</summary>
    public required byte[] Greeting { get; init; }

    /// <summary>"220-$postscreen_greet_banner", the teaser before the pregreet wait; null when the banner is empty, which turns the test off.</summary>
    public required byte[]? Teaser { get; init; }

    public required TimeSpan GreetWait { get; init; }
    public required ScreenAction GreetAction { get; init; }
    public required TimeSpan GreetTtl { get; init; }

    public required ScreenAccessList Access { get; init; }
    public required NetworkList Mynetworks { get; init; }
    public required ScreenAction DenylistAction { get; init; }

    public required ScreenDnsbl Dnsbl { get; init; }
    public required ScreenAction DnsblAction { get; init; }

    public required bool PipeliningEnable { get; init; }
    public required ScreenAction PipeliningAction { get; init; }
    public required TimeSpan PipeliningTtl { get; init; }
    public required bool NonSmtpEnable { get; init; }
    public required ScreenAction NonSmtpAction { get; init; }
    public required TimeSpan NonSmtpTtl { get; init; }
    public required bool BareNewlineEnable { get; init; }
    public required ScreenAction BareNewlineAction { get; init; }
    public required TimeSpan BareNewlineTtl { get; init; }

    /// <summary>The shortest lifetime of a pass: what a test passed only because its action is ignore is good for.</summary>
    public TimeSpan MinTtl => new[] { GreetTtl, Dnsbl.MinTtl, PipeliningTtl, NonSmtpTtl, BareNewlineTtl }.Min();

    public required ScreenCache Cache { get; init; }

    public required bool UpstreamProxy { get; init; }
    public required TimeSpan UpstreamProxyTimeout { get; init; }
    public required int ClientConnectionCountLimit { get; init; }

    public required int CommandCountLimit { get; init; }
    public required TimeSpan CommandTimeLimit { get; init; }
    public required bool HeloRequired { get; init; }
    public required bool DisableVrfy { get; init; }

    /// <summary>What the EHLO reply of the engine offers, as Postfix's: smtpd's disable_vrfy_command decides VRFY.</summary>
    public required byte[] EhloKeywords { get; init; }

    /// <summary>The EHLO reply once TLS is on: the same, without STARTTLS.</summary>
    public required byte[] EhloKeywordsTls { get; init; }

    /// <summary>postscreen_tls_security_level may or encrypt: STARTTLS is announced (unless discarded) and taken.</summary>
    public required bool UseTls { get; init; }

    /// <summary>postscreen_tls_security_level encrypt: only HELO, EHLO, STARTTLS, NOOP and QUIT before TLS.</summary>
    public required bool EnforceTls { get; init; }

    /// <summary>
    /// The tlsproxy service that does the handshake; null when master.cf has none (named tlsproxy_service_name) or its
    /// tlsproxy_tls_security_level is none: STARTTLS then gets Postfix's 454 "TLS not available due to local problem".
    /// </summary>
    public required ScreenTlsProxy? TlsProxy { get; init; }

    public required bool SoftBounce { get; init; }

    /// <summary>line_length_limit: a longer command line ends the session.</summary>
    public required int LineLengthLimit { get; init; }

    /// <summary>Whether CHUNKING is announced (postscreen_discard_ehlo_keywords): BDAT is "not implemented" without it.</summary>
    public required bool Chunking { get; init; }

    /// <summary>Reads the postscreen service's settings; throws the configuration error, naming file, line and parameter.</summary>
    /// <param name="tlsproxy">The settings as the tlsproxy service sees them (with its -o options); null without one.</param>
    public static ScreenSettings From(MainConfig config, Func<IPolicyStore> store, DnsResolver dns, MainConfig? tlsproxy)
    {
        string myhostname = config.Get("myhostname");
        string banner = config.Get("postscreen_greet_banner");
        long sizeLimit = config.GetLong("message_size_limit");
        var discard = new HashSet<string>(config.GetList("postscreen_discard_ehlo_keywords"), StringComparer.OrdinalIgnoreCase);
        string level = config.Get("postscreen_tls_security_level").ToLowerInvariant();
        bool useTls = level is "may" or "encrypt";
        string?[] offered =
        [
            "SIZE",
            config.GetBool("disable_vrfy_command") ? null : "VRFY",
            "ETRN",
            useTls ? "STARTTLS" : null,
            "ENHANCEDSTATUSCODES", "8BITMIME", "DSN",
            config.GetBool("smtputf8_enable") ? "SMTPUTF8" : null,
            "CHUNKING",
        ];
        string[] keywords = [.. offered.OfType<string>().Where(k => !discard.Contains(k))];
        string cacheMap = config.Get("postscreen_cache_map");
        return new ScreenSettings
        {
            MyHostname = myhostname,
            Greeting = Encoding.UTF8.GetBytes($"220 {config.Get("smtpd_banner")}\r\n"),
            Teaser = banner.Length == 0 ? null : Encoding.UTF8.GetBytes($"220-{banner}\r\n"),
            GreetWait = config.GetTime("postscreen_greet_wait"),
            GreetAction = Action(config, "postscreen_greet_action"),
            GreetTtl = config.GetTime("postscreen_greet_ttl"),
            Access = ScreenAccessList.Parse(config),
            Mynetworks = config.GetNetworks("mynetworks"),
            DenylistAction = Action(config, "postscreen_denylist_action"),
            Dnsbl = ScreenDnsbl.From(config, dns),
            DnsblAction = Action(config, "postscreen_dnsbl_action"),
            PipeliningEnable = config.GetBool("postscreen_pipelining_enable"),
            PipeliningAction = Action(config, "postscreen_pipelining_action"),
            PipeliningTtl = config.GetTime("postscreen_pipelining_ttl"),
            NonSmtpEnable = config.GetBool("postscreen_non_smtp_command_enable"),
            NonSmtpAction = Action(config, "postscreen_non_smtp_command_action"),
            NonSmtpTtl = config.GetTime("postscreen_non_smtp_command_ttl"),
            BareNewlineEnable = config.GetBool("postscreen_bare_newline_enable"),
            BareNewlineAction = Action(config, "postscreen_bare_newline_action"),
            BareNewlineTtl = config.GetTime("postscreen_bare_newline_ttl"),
            Cache = new ScreenCache(cacheMap.Length == 0 ? null : store(), config.GetTime("postscreen_cache_retention_time"),
                config.GetTime("postscreen_cache_cleanup_interval")),
            UpstreamProxy = config.Get("postscreen_upstream_proxy_protocol").Length > 0,
            UpstreamProxyTimeout = config.GetTime("postscreen_upstream_proxy_timeout"),
            ClientConnectionCountLimit = config.GetInt("postscreen_client_connection_count_limit"),
            CommandCountLimit = config.GetInt("postscreen_command_count_limit"),
            CommandTimeLimit = config.GetTime("postscreen_command_time_limit"),
            HeloRequired = config.GetBool("postscreen_helo_required"),
            DisableVrfy = config.GetBool("postscreen_disable_vrfy_command"),
            EhloKeywords = EhloReply(myhostname, sizeLimit, keywords),
            EhloKeywordsTls = EhloReply(myhostname, sizeLimit, [.. keywords.Where(k => k != "STARTTLS")]),
            UseTls = keywords.Contains("STARTTLS"),
            EnforceTls = level == "encrypt",
            TlsProxy = useTls ? ReadTlsProxy(tlsproxy) : null,
            SoftBounce = config.GetBool("soft_bounce"),
            LineLengthLimit = Math.Max(1, config.GetInt("line_length_limit")),
            Chunking = keywords.Contains("CHUNKING"),
        };
    }

    private static byte[] EhloReply(string myhostname, long sizeLimit, string[] keywords)
    {
        string[] lines = [myhostname, .. keywords.Select(k => k == "SIZE" && sizeLimit > 0 ? $"SIZE {sizeLimit}" : k)];
        var ehlo = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            ehlo.Append(i == lines.Length - 1 ? "250 " : "250-").Append(lines[i]).Append("\r\n");
        }
        return Encoding.UTF8.GetBytes(ehlo.ToString());
    }

    /// <summary>
    /// tlsproxy's server role, as tlsproxy(8) sets it up: its own level decides whether it serves at all, and whether
    /// the mandatory protocols and ciphers apply (encrypt); a level that enables it needs a certificate.
    /// </summary>
    private static ScreenTlsProxy? ReadTlsProxy(MainConfig? tlsproxy)
    {
        string level = tlsproxy?.Get("tlsproxy_tls_security_level").ToLowerInvariant() ?? "";
        if (tlsproxy is null || level is not ("may" or "encrypt"))
        {
            return null;
        }
        return new ScreenTlsProxy(ServerTlsSettings.LoadCertificate(tlsproxy, "tlsproxy", "tlsproxy_tls_security_level"),
            ServerTlsSettings.From(tlsproxy, enforced: level == "encrypt", role: "tlsproxy"));
    }

    /// <summary>
    /// "continue" is the older name of ignore. Checked here as well as by main.cf's validation, since a value can come
    /// through a default ($postscreen_blacklist_action).
    /// </summary>
    private static ScreenAction Action(MainConfig config, string name) => config.Get(name).ToLowerInvariant() switch
    {
        "enforce" => ScreenAction.Enforce,
        "drop" => ScreenAction.Drop,
        "ignore" or "continue" => ScreenAction.Ignore,
        string other => throw config.Error(name, ValueSyntax.BadChoice(other, ["ignore", "enforce", "drop"])),
    };
}
