using System.Security.Cryptography.X509Certificates;
using System.Text;
using Edge.Net;
using Edge.Resolve;
using Edge.Restrictions;
using Edge.Smtp.Data;
using Edge.Smtp.Tls;

namespace Edge.Smtp.Session;

internal enum TlsLevel : byte
{
    None,
    May,
    Encrypt,
}

/// <summary>
/// Everything a session needs from main.cf (with the listener's master.cf -o overrides), resolved once per
/// listener at start-up: replies that do not change are pre-encoded here.
/// </summary>
internal sealed class SmtpdSettings
{
    public required string MyHostname { get; init; }
    public required string MailName { get; init; }
    public required byte[] Greeting { get; init; }
    /// <summary>The four EHLO replies, by <see cref="EhloIndex"/>: with or without STARTTLS and XCLIENT.</summary>
    public required byte[][] EhloReplies { get; init; }
    public required byte[] HeloReply { get; init; }
    public required long MessageSizeLimit { get; init; }
    public required int RecipientLimit { get; init; }
    public required TimeSpan Timeout { get; init; }
    public required bool HeloRequired { get; init; }
    public required int SoftErrorLimit { get; init; }
    public required int HardErrorLimit { get; init; }
    public required TimeSpan ErrorSleep { get; init; }
    public required int JunkCommandLimit { get; init; }
    public required BareNewlineMode BareNewline { get; init; }
    public required NetworkList BareNewlineExclusions { get; init; }
    public required int BareNewlineRejectCode { get; init; }
    public required bool ForbidUnauthPipelining { get; init; }
    public required bool DisableVrfy { get; init; }
    public required bool StrictRfc821Envelopes { get; init; }
    public required bool SmtpUtf8Enabled { get; init; }
    public required bool ChunkingEnabled { get; init; }
    public required bool DsnEnabled { get; init; }
    public required int LineLengthLimit { get; init; }
    public required NetworkList Mynetworks { get; init; }

    /// <summary>local_header_rewrite_clients: whose message headers cleanup rewrites in the local context.</summary>
    public required HeaderRewriteClients HeaderRewriteClients { get; init; }
    public required AddressClassifier Classifier { get; init; }

    /// <summary>What cleanup does to the mail this listener receives (checks, address mappings, header rules).</summary>
    public required Cleanup.CleanupSettings Cleanup { get; init; }

    /// <summary>smtpd_proxy_filter: the before-queue content filter each transaction goes to instead of the queue, or null.</summary>
    public BeforeQueue.ProxyFilterSettings? ProxyFilter { get; init; }

    /// <summary>smtpd_milters, unless receive_override_options says no_milters; null when there are none.</summary>
    public Milter.MilterSettings? Milters { get; init; }
    public required RestrictionSettings Restrictions { get; init; }
    public required NetworkList XclientHosts { get; init; }
    public required int ClientConnectionLimit { get; init; }

    /// <summary>soft_bounce: 5XX replies are sent as 4XX.</summary>
    public bool SoftBounce { get; init; }

    /// <summary>smtpd_client_connection_rate_limit, _message_, _recipient_ and _new_tls_session_rate_limit (0: none), per anvil_rate_time_unit.</summary>
    public int ClientConnectionRateLimit { get; init; }
    public int ClientMessageRateLimit { get; init; }
    public int ClientRecipientRateLimit { get; init; }
    public int ClientNewTlsSessionRateLimit { get; init; }

    /// <summary>anvil_rate_time_unit: the window the rates are counted in.</summary>
    public TimeSpan AnvilTimeUnit { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Where the rates are shared between servers (edge_policy_store when it is redis:); null: this server counts alone.</summary>
    public Restrictions.Policy.Store.IPolicyStore? SharedRates { get; init; }

    /// <summary>Whether any count or rate limit asks anvil to count clients' events at all.</summary>
    public bool CountsClientEvents => ClientConnectionLimit > 0 || ClientConnectionRateLimit > 0 || ClientMessageRateLimit > 0
        || ClientRecipientRateLimit > 0 || ClientNewTlsSessionRateLimit > 0 || Sasl is { RateLimit: > 0 };
    public required NetworkList ClientLimitExceptions { get; init; }
    public required bool PerRequestDeadline { get; init; }

    /// <summary>smtpd_peername_lookup: name the client from DNS (PTR, forward-confirmed) before the greeting.</summary>
    public required bool PeernameLookup { get; init; }
    public required TimeSpan SessionTimeLimit { get; init; }
    public required bool UpstreamProxy { get; init; }
    public required TimeSpan UpstreamProxyTimeout { get; init; }
    public required TlsLevel Tls { get; init; }

    /// <summary>smtpd_starttls_timeout: how long the TLS handshake may take (after STARTTLS, or at connect in wrapper mode).</summary>
    public TimeSpan StartTlsTimeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Wrapper mode, protocol versions, client certificates, and what the Received: header and the log say of TLS.</summary>
    public ServerTlsSettings ServerTls { get; init; } = ServerTlsSettings.None;

    /// <summary>notify_classes for the SMTP server: which errors get the postmaster a transcript; null when none.</summary>
    public SessionNotify? Notify { get; init; }

    /// <summary>SMTP AUTH (smtpd_sasl_auth_enable); null when off.</summary>
    public Auth.SaslSettings? Sasl { get; init; }

    /// <summary>smtpd_discard_ehlo_keywords, upper case: what EHLO does not announce (and, for AUTH, what is not offered).</summary>
    public IReadOnlySet<string> EhloDiscard { get; init; } = new HashSet<string>();
    public X509Certificate2? Certificate { get; init; }

    public static int EhloIndex(bool startTls, bool xclient) => (startTls ? 1 : 0) | (xclient ? 2 : 0);

    /// <summary>The EHLO reply of a session offering AUTH with <paramref name="mechanisms"/> (and AUTH= with broken_sasl_auth_clients).</summary>
    public byte[] Ehlo(bool startTls, bool xclient, string mechanisms) =>
        BuildEhlo(MyHostname, MessageSizeLimit, !DisableVrfy, startTls, xclient, SmtpUtf8Enabled, EhloDiscard, mechanisms, Sasl?.BrokenClients == true);

    /// <summary>The XCLIENT attributes Edge accepts, as the EHLO keyword lists them.</summary>
    public const string XclientAttributes = "NAME ADDR PROTO HELO REVERSE_NAME PORT LOGIN DESTADDR DESTPORT";

    /// <summary>Builds the EHLO reply in Postfix's keyword order, leaving out discarded keywords.</summary>
    public static byte[] BuildEhlo(string hostname, long sizeLimit, bool vrfy, bool startTls, bool xclient, bool utf8,
        IReadOnlySet<string> discard, string? auth = null, bool brokenAuthClients = false)
    {
        var keywords = new List<string>();
        void Add(string keyword, string line)
        {
            if (!discard.Contains(keyword))
            {
                keywords.Add(line);
            }
        }
        Add("PIPELINING", "PIPELINING");
        Add("SIZE", sizeLimit > 0 ? $"SIZE {sizeLimit}" : "SIZE");
        if (vrfy) Add("VRFY", "VRFY");
        Add("ETRN", "ETRN");
        if (startTls) Add("STARTTLS", "STARTTLS");
        if (auth is not null)
        {
            Add("AUTH", "AUTH " + auth);
            if (brokenAuthClients) Add("AUTH", "AUTH=" + auth);
        }
        if (xclient) Add("XCLIENT", "XCLIENT " + XclientAttributes);
        Add("ENHANCEDSTATUSCODES", "ENHANCEDSTATUSCODES");
        Add("8BITMIME", "8BITMIME");
        Add("DSN", "DSN");
        if (utf8) Add("SMTPUTF8", "SMTPUTF8");
        Add("CHUNKING", "CHUNKING");

        var text = new StringBuilder();
        text.Append(keywords.Count > 0 ? "250-" : "250 ").Append(hostname).Append("\r\n");
        for (int i = 0; i < keywords.Count; i++)
        {
            text.Append(i == keywords.Count - 1 ? "250 " : "250-").Append(keywords[i]).Append("\r\n");
        }
        return Encoding.ASCII.GetBytes(text.ToString());
    }
}
