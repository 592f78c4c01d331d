using System.Collections.Frozen;
using System.Text;
using Edge.Config;
using Edge.Mail;
using Edge.Resolve;

namespace Edge.Cleanup;

/// <summary>
/// What cleanup does to the mail of one producer (a listener with its -o overrides, or Edge's own notices and
/// forwarded copies): the content checks, the address mappings (canonical, virtual alias, masquerading), the headers it drops, its limits, and how it writes
/// the Received: header.
/// </summary>
internal sealed class CleanupSettings
{
    public required string MyHostname { get; init; }

    /// <summary>trivial-rewrite's local context, for envelope addresses (append_at_myorigin, append_dot_mydomain …).</summary>
    public required RewriteContext LocalRewrite { get; init; }

    /// <summary><see cref="LocalRewrite"/> as the envelope takes it, made once.</summary>
    public AddressRewrite EnvelopeRewrite => _envelopeRewrite ??= LocalRewrite.Changed;
    private AddressRewrite? _envelopeRewrite;

    /// <summary>The remote context, for headers of mail from clients not in local_header_rewrite_clients; null leaves them alone.</summary>
    public RewriteContext? RemoteRewrite { get; init; }

    /// <summary>
    /// MAILER-DAEMON in the local context: a sender that reads so is the null sender, as in Postfix; null when that
    /// context leaves it without a domain (append_at_myorigin = no), which Postfix never takes for the null sender.
    /// </summary>
    public byte[]? MailerDaemon { get; init; }

    /// <summary>Whether <paramref name="sender"/>, already in the local context, is MAILER-DAEMON@$myorigin.</summary>
    public bool IsMailerDaemon(ReadOnlySpan<byte> sender) => MailerDaemon is { } daemon && System.Text.Ascii.EqualsIgnoreCase(sender, daemon);

    /// <summary>always_add_missing_headers: Message-Id:, Date:, From: for mail whose headers are not rewritten too.</summary>
    public bool AlwaysAddMissingHeaders { get; init; }

    /// <summary>header_address_token_limit: how many tokens of an address header are parsed for rewriting.</summary>
    public int HeaderTokenLimit { get; init; } = 10240;

    /// <summary>undisclosed_recipients_header: the header added to mail without To: or Cc:, or null.</summary>
    public string? UndisclosedRecipientsHeader { get; init; }
    public required string MailName { get; init; }
    public required ContentChecks Checks { get; init; }
    public required VirtualAliases VirtualAliases { get; init; }

    /// <summary>canonical_maps, sender_/recipient_canonical_maps and masquerading.</summary>
    public required AddressRewriting Rewriting { get; init; }

    /// <summary>message_drop_headers (lower case), header_size_limit and hopcount_limit.</summary>
    public required HeaderRules Headers { get; init; }

    /// <summary>milter_header_checks: the headers mail filters add or change are checked with them; null when there are none.</summary>
    public ContentChecks? MilterHeaderChecks { get; init; }

    /// <summary>content_filter: the transport:destination every message goes through after the queue, or null.</summary>
    public string? ContentFilter { get; init; }

    /// <summary>duplicate_filter_limit: how many recipients the duplicate filter remembers (0: all).</summary>
    public required int DuplicateFilterLimit { get; init; }

    /// <summary>
    /// The settings for mail received with <paramref name="config"/>. <paramref name="overrides"/> are the
    /// receive_override_options in force (no_header_body_checks, no_address_mappings); mail Edge writes itself
    /// passes <paramref name="internalMail"/> and no overrides: address mappings but no content checks, as Postfix's
    /// bounce and local daemons submit theirs (CLEANUP_FLAG_MASK_INTERNAL).
    /// </summary>
    public static CleanupSettings From(MainConfig config, AddressClassifier classifier, IReadOnlySet<string> overrides,
        bool internalMail = false) => new()
    {
        MyHostname = config.Get("myhostname"),
        MailName = config.Get("mail_name"),
        Checks = internalMail || overrides.Contains("no_header_body_checks") ? ContentChecks.None(config) : ContentChecks.From(config),
        VirtualAliases = new VirtualAliases(config, classifier, !overrides.Contains("no_address_mappings")),
        Rewriting = AddressRewriting.From(config, classifier, !overrides.Contains("no_address_mappings")),
        Headers = new HeaderRules(config.GetList("message_drop_headers").Select(h => h.ToLowerInvariant()).ToFrozenSet(),
            Positive(config, "header_size_limit"), Positive(config, "hopcount_limit"), CheckStage.Receiving),
        MilterHeaderChecks = ContentChecks.From(config, ["milter_header_checks", "", "", ""]) is { IsEmpty: false } milterChecks ? milterChecks : null,
        DuplicateFilterLimit = config.GetInt("duplicate_filter_limit"),
        ContentFilter = ContentFilterOf(config),
        LocalRewrite = RewriteContext.Local(config),
        RemoteRewrite = RewriteContext.Remote(config),
        MailerDaemon = MailerDaemonOf(RewriteContext.Local(config)),
        AlwaysAddMissingHeaders = config.GetBool("always_add_missing_headers"),
        HeaderTokenLimit = Positive(config, "header_address_token_limit"),
        UndisclosedRecipientsHeader = UndisclosedRecipients(config),
    };

    private static byte[]? MailerDaemonOf(RewriteContext local)
    {
        string daemon = local.Rewrite("MAILER-DAEMON");
        return daemon.Contains('@') ? Encoding.UTF8.GetBytes(daemon) : null;
    }

    private static string? UndisclosedRecipients(MainConfig config)
    {
        string header = config.Get("undisclosed_recipients_header").Trim();
        if (header.Length == 0)
        {
            return null;
        }
        return HeaderSyntax.IsHeader(Encoding.UTF8.GetBytes(header)) ? header
            : throw config.Error("undisclosed_recipients_header", $"bad header text \"{header}\" -- need \"headername: headervalue\"");
    }

    /// <summary>content_filter as transport(5)'s right-hand side: a transport, a colon, and a destination that may be empty.</summary>
    private static string? ContentFilterOf(MainConfig config)
    {
        string value = config.Get("content_filter").Trim();
        if (value.Length == 0)
        {
            return null;
        }
        int colon = value.IndexOf(':');
        return colon > 0 ? value
            : throw config.Error("content_filter", $"bad content filter \"{value}\" (transport:destination, as in transport(5))");
    }

    /// <summary>A count that must be at least 1, or start-up stops naming the parameter.</summary>
    public static int Positive(MainConfig config, string name)
    {
        int value = config.GetInt(name);
        return value > 0 ? value : throw config.Error(name, $"bad numerical configuration: {name} = {value}: must be at least 1");
    }
}
