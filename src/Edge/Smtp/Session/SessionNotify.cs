using Edge.Cleanup;
using Edge.Config;

namespace Edge.Smtp.Session;

/// <summary>
/// notify_classes for the SMTP server (policy, protocol, resource, software): the classes that get the postmaster a
/// transcript of the session, smtpd_history_flush_threshold, who gets it (error_notice_recipient), who it is from
/// (double_bounce_sender, so that it cannot bounce back and forth), and what cleanup does to it (notify mail).
/// </summary>
internal sealed record SessionNotify(ErrorClasses Classes, int HistoryThreshold, string Recipient, string Sender, string MailerDaemon,
    InternalMail Kind)
{
    /// <summary>Null when notify_classes names none of the SMTP server's classes.</summary>
    public static SessionNotify? From(MainConfig config, Resolve.AddressClassifier classifier)
    {
        var classes = ErrorClasses.None;
        foreach (string name in config.GetList("notify_classes"))
        {
            classes |= name.ToLowerInvariant() switch
            {
                "policy" => ErrorClasses.Policy,
                "protocol" => ErrorClasses.Protocol,
                "resource" => ErrorClasses.Resource,
                "software" => ErrorClasses.Software,
                "bounce" or "2bounce" or "delay" or "data" => ErrorClasses.None,
                string other => throw config.Error("notify_classes", $"unknown class \"{other}\" (bounce, 2bounce, data, delay, policy, protocol, resource, software)"),
            };
        }
        if (classes == ErrorClasses.None)
        {
            return null;
        }
        string origin = config.Get("myorigin");
        string sender = config.Get("double_bounce_sender");
        return new SessionNotify(classes, Math.Max(1, config.GetInt("smtpd_history_flush_threshold")), config.Get("error_notice_recipient"),
            sender.Contains('@') ? sender : $"{sender}@{origin}", $"MAILER-DAEMON@{origin}", InternalMailKinds.From(config, classifier).Notify);
    }
}
