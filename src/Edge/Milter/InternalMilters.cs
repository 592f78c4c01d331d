using Edge.Config;

namespace Edge.Milter;

/// <summary>
/// non_smtpd_milters for the mail Edge writes itself, as internal_mail_filter_classes chooses: "bounce" for
/// notices to senders (non-delivery, delay and success notices), "notify" for notices to the postmaster.
/// </summary>
internal sealed record InternalMilters(MilterSettings? Bounce, MilterSettings? Notify)
{
    public static InternalMilters From(MainConfig config)
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
        MilterSettings? milters = classes.Count == 0 ? null : MilterSettings.From(config, "non_smtpd_milters");
        return new InternalMilters(classes.Contains("bounce") ? milters : null, classes.Contains("notify") ? milters : null);
    }
}
