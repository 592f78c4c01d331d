using Edge.Config;
using Edge.Milter;
using Edge.Resolve;

namespace Edge.Cleanup;

/// <summary>
/// How cleanup treats one kind of the mail Edge writes itself: its settings, the mail filters it passes, if any, and
/// whether its headers are rewritten in the local context (Edge's notices) or left as they are (a forwarded copy,
/// whose headers cleanup saw when the original arrived).
/// </summary>
internal sealed record InternalMail(CleanupSettings Cleanup, MilterSettings? Milters, bool LocalHeaders = true);

/// <summary>
/// The mail Edge writes itself, by kind: copies a local alias forwards (never inspected again), notices to senders
/// ("bounce": non-delivery, delay and success notices) and notices to the postmaster ("notify"). A kind that
/// internal_mail_filter_classes names gets header_checks, body_checks and non_smtpd_milters, as in Postfix; the
/// others only the address mappings.
/// </summary>
internal sealed record InternalMailKinds(InternalMail Forwarded, InternalMail Bounce, InternalMail Notify)
{
    public static InternalMailKinds From(MainConfig config, AddressClassifier classifier)
    {
        var classes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string word in config.GetList("internal_mail_filter_classes"))
        {
            if (word.ToLowerInvariant() is not ("bounce" or "notify"))
            {
                throw config.Error("internal_mail_filter_classes", $"unknown mail class \"{word}\" (bounce or notify)");
            }
            classes.Add(word);
        }
        var overrides = new HashSet<string>();
        var plain = new InternalMail(CleanupSettings.From(config, classifier, overrides, internalMail: true), null);
        InternalMail filtered = classes.Count == 0 ? plain
            : new InternalMail(CleanupSettings.From(config, classifier, overrides), MilterSettings.From(config, "non_smtpd_milters"));
        return new InternalMailKinds(plain with { LocalHeaders = false }, classes.Contains("bounce") ? filtered : plain,
            classes.Contains("notify") ? filtered : plain);
    }
}
