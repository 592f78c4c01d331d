using Edge.Config;

namespace Edge.Scheduler;

/// <summary>
/// notify_classes for undelivered mail: "bounce" sends the postmaster (bounce_notice_recipient) a copy of each
/// non-delivery notice, "2bounce" sends the postmaster (2bounce_notice_recipient) a bounce that could not
/// be returned. Both come from double_bounce_sender@myorigin, whose own failures are dropped, so that
/// notices about notices cannot loop.
/// </summary>
internal sealed record PostmasterNotices(bool Bounce, bool DoubleBounce, string BounceRecipient, string DoubleBounceRecipient,
    string Sender)
{
    public static PostmasterNotices FromConfig(MainConfig main)
    {
        var classes = main.GetList("notify_classes").ToHashSet(StringComparer.OrdinalIgnoreCase);
        string origin = main.Get("myorigin");
        string Qualified(string address) => address.Contains('@') ? address : $"{address}@{origin}";
        return new PostmasterNotices(classes.Contains("bounce"), classes.Contains("2bounce"),
            Qualified(main.Get("bounce_notice_recipient")), Qualified(main.Get("2bounce_notice_recipient")),
            Qualified(main.Get("double_bounce_sender")));
    }

    /// <summary>Mail from double_bounce_sender: nobody hears of its failures.</summary>
    public bool IsOwn(string sender) => sender.Equals(Sender, StringComparison.OrdinalIgnoreCase);
}
