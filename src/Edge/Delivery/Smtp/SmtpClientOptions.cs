using Edge.Cleanup;
using Edge.Config;
using Edge.Resolve;

namespace Edge.Delivery.Smtp;

/// <summary>
/// How one transport's deliveries talk to servers: Postfix's smtp_* parameters (lmtp_* for LMTP). A zero time
/// limit means none, as lmtp_connect_timeout = 0 does in Postfix.
/// </summary>
internal sealed class SmtpClientOptions
{
    /// <summary>LMTP (LHLO, one reply per recipient after the dot) instead of SMTP.</summary>
    public bool Lmtp { get; init; }

    /// <summary>smtp_helo_name: the name sent with EHLO, HELO or LHLO.</summary>
    public string HeloName { get; init; } = "localhost";

    /// <summary>
    /// smtp_header_checks and the others, applied to the content as it is sent; null when nothing looks at the content
    /// (no checks and no <see cref="Generic"/>).
    /// </summary>
    public ContentChecks? ContentChecks { get; init; }

    /// <summary>smtp_generic_maps (lmtp_generic_maps) for the envelope and the headers sent; null when there are none.</summary>
    public GenericHeaderRewriter? Generic { get; init; }

    /// <summary>header_size_limit, for those checks.</summary>
    public HeaderRules HeaderRules { get; init; } = HeaderRules.Only(CheckStage.Sending, 102400);

    /// <summary>smtp_never_send_ehlo: greet with HELO only (no ESMTP features, as for an old content filter).</summary>
    public bool NeverSendEhlo { get; init; }

    public SmtpTlsLevel TlsLevel { get; init; } = SmtpTlsLevel.None;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>smtp_helo_timeout: the greeting and the EHLO/HELO/LHLO reply.</summary>
    public TimeSpan HeloTimeout { get; init; } = TimeSpan.FromSeconds(300);

    public TimeSpan StartTlsTimeout { get; init; } = TimeSpan.FromSeconds(300);
    public TimeSpan MailTimeout { get; init; } = TimeSpan.FromSeconds(300);
    public TimeSpan RcptTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>smtp_data_init_timeout: the reply to DATA.</summary>
    public TimeSpan DataInitTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>smtp_data_xfer_timeout: each write of message content.</summary>
    public TimeSpan DataXferTimeout { get; init; } = TimeSpan.FromSeconds(180);

    /// <summary>smtp_data_done_timeout: the reply (LMTP: each reply) to the final dot.</summary>
    public TimeSpan DataDoneTimeout { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>smtp_rset_timeout: the RSET that checks a cached connection before it is reused.</summary>
    public TimeSpan RsetTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public TimeSpan QuitTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>smtp_connection_cache_time_limit: how long an idle connection is kept for the next delivery; zero keeps none.</summary>
    public TimeSpan ConnectionCacheTimeLimit { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>smtp_connection_reuse_time_limit: a connection older than this is closed instead of cached.</summary>
    public TimeSpan ConnectionReuseTimeLimit { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>smtp_mx_address_limit: how many addresses an MX lookup may give to try (0: all of them).</summary>
    public int MxAddressLimit { get; init; } = 5;

    /// <summary>
    /// The options of the smtp (or lmtp) transport from main.cf. An lmtp_* parameter Edge does not know yet
    /// falls back to its smtp_* twin, whose default is the same in Postfix.
    /// </summary>
    /// <param name="classifier">The address classes, for the generic table's lookups by local part.</param>
    public static SmtpClientOptions FromConfig(MainConfig config, bool lmtp, AddressClassifier classifier)
    {
        string prefix = lmtp ? "lmtp_" : "smtp_";
        string Name(string suffix) => config.DefinitionOf(prefix + suffix) is not null ? prefix + suffix : "smtp_" + suffix;
        TimeSpan Time(string suffix, TimeSpan fallback) =>
            config.DefinitionOf(Name(suffix)) is not null ? config.GetTime(Name(suffix)) : fallback;

        var defaults = new SmtpClientOptions();
        var genericMaps = new AddressMap(config, Name("generic_maps"), classifier, "generic");
        GenericHeaderRewriter? generic = genericMaps.IsEmpty ? null : new GenericHeaderRewriter(genericMaps, config.GetInt("header_address_token_limit"));
        ContentChecks? checks = lmtp ? null : ContentChecks.From(config, ["smtp_header_checks", "smtp_mime_header_checks", "smtp_nested_header_checks", "smtp_body_checks"]);
        return new SmtpClientOptions
        {
            Lmtp = lmtp,
            HeloName = config.Get(lmtp ? Name("lhlo_name") : "smtp_helo_name") is { Length: > 0 } helo ? helo : config.Get("myhostname"),
            NeverSendEhlo = !lmtp && config.GetBool("smtp_never_send_ehlo"),
            ContentChecks = checks is { IsEmpty: false } ? checks : generic is not null ? ContentChecks.None(config) : null,
            Generic = generic,
            HeaderRules = HeaderRules.Only(CheckStage.Sending, CleanupSettings.Positive(config, "header_size_limit")),
            TlsLevel = TlsLevelOf(config, Name("tls_security_level"), lmtp),
            ConnectTimeout = Time("connect_timeout", defaults.ConnectTimeout),
            HeloTimeout = Time("helo_timeout", defaults.HeloTimeout),
            StartTlsTimeout = Time("starttls_timeout", defaults.StartTlsTimeout),
            MailTimeout = Time("mail_timeout", defaults.MailTimeout),
            RcptTimeout = Time("rcpt_timeout", defaults.RcptTimeout),
            DataInitTimeout = Time("data_init_timeout", defaults.DataInitTimeout),
            DataXferTimeout = Time("data_xfer_timeout", defaults.DataXferTimeout),
            DataDoneTimeout = Time("data_done_timeout", defaults.DataDoneTimeout),
            RsetTimeout = Time("rset_timeout", defaults.RsetTimeout),
            QuitTimeout = Time("quit_timeout", defaults.QuitTimeout),
            ConnectionCacheTimeLimit = Time("connection_cache_time_limit", defaults.ConnectionCacheTimeLimit),
            ConnectionReuseTimeLimit = Time("connection_reuse_time_limit", defaults.ConnectionReuseTimeLimit),
            MxAddressLimit = config.DefinitionOf(Name("mx_address_limit")) is not null ? config.GetInt(Name("mx_address_limit")) : defaults.MxAddressLimit,
        };
    }

    private static SmtpTlsLevel TlsLevelOf(MainConfig config, string name, bool lmtp) => config.Get(name) switch
    {
        "none" => SmtpTlsLevel.None,
        "may" => SmtpTlsLevel.May,
        "encrypt" => SmtpTlsLevel.Encrypt,
        // An empty level falls back to the obsolete booleans, as in Postfix; lmtp has no such parameters here.
        "" when !lmtp && config.GetBool("smtp_enforce_tls") => SmtpTlsLevel.Encrypt,
        "" when !lmtp && config.GetBool("smtp_use_tls") => SmtpTlsLevel.May,
        "" => SmtpTlsLevel.None,
        // Refused rather than downgraded: a level that promises a verified peer must not quietly deliver without one.
        string other => throw config.Error(name, $"\"{other}\" is not supported by Edge's delivery client yet (none, may or encrypt)"),
    };
}
