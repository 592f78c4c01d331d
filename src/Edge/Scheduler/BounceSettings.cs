using Edge.Config;

namespace Edge.Scheduler;

/// <summary>
/// bounce(8)'s settings. bounce_size_limit: how much of the original a notice returns. notify_classes for
/// undelivered mail: "bounce" sends the postmaster (bounce_notice_recipient) a copy of each
/// non-delivery notice, "2bounce" sends the postmaster (2bounce_notice_recipient) a bounce that could not
/// be returned, "delay" sends the postmaster (delay_notice_recipient) a copy of each delay warning. All come from
/// double_bounce_sender@myorigin, whose own failures are dropped, so that
/// notices about notices cannot loop. soft_bounce: what would bounce waits in the queue instead (logged
/// "status=SOFTBOUNCE" with a 4.X.X status), as Postfix's bounce_append() turns it into a deferral.
/// </summary>
internal sealed record BounceSettings(bool Bounce, bool DoubleBounce, string BounceRecipient, string DoubleBounceRecipient,
    string Sender, long SizeLimit, bool SoftBounce = false, string? DelayRecipient = null)
{
    public static BounceSettings FromConfig(MainConfig main)
    {
        var classes = main.GetList("notify_classes").ToHashSet(StringComparer.OrdinalIgnoreCase);
        string origin = main.Get("myorigin");
        string Qualified(string address) => address.Contains('@') ? address : $"{address}@{origin}";
        return new BounceSettings(classes.Contains("bounce"), classes.Contains("2bounce"),
            Qualified(main.Get("bounce_notice_recipient")), Qualified(main.Get("2bounce_notice_recipient")),
            Qualified(main.Get("double_bounce_sender")), main.GetInt("bounce_size_limit"), main.GetBool("soft_bounce"),
            classes.Contains("delay") ? Qualified(main.Get("delay_notice_recipient")) : null);
    }

    /// <summary>Mail from double_bounce_sender: nobody hears of its failures.</summary>
    public bool IsOwn(string sender) => sender.Equals(Sender, StringComparison.OrdinalIgnoreCase);
}
