using System.Diagnostics;
using System.Globalization;
using Edge.Delivery;
using Edge.Logging;
using Edge.Mail;
using Edge.Metrics;
using Edge.Queue;
using Edge.Resolve;
using Edge.Tables;

namespace Edge.Scheduler;

/// <summary>
/// What the queue manager does with delivery outcomes: each job's are logged and written to the log as
/// status records as soon as the job ends; once every job of the attempt has ended, the notices go out and
/// the message is removed or waits for its next attempt.
/// </summary>
internal sealed partial class QueueManager
{
    /// <summary>One delivery attempt of a message, shared by its jobs.</summary>
    /// <param name="Routes">What routing the message asked of tables a server answers, fetched before the attempt; null when nothing.</param>
    private sealed record Attempt(QueueEntry Entry, QueuedMessage Message, QueueManagerSettings Settings, Stopwatch Clock, bool Flushed,
        TableAnswers? Routes)
    {
        /// <summary>bounce_queue_lifetime limits the mail system's own notices, maximal_queue_lifetime all others.</summary>
        public bool Expired(TimeSpan age) =>
            age > (Message.Sender.Length == 0 ? Settings.Schedule.BounceQueueLifetime : Settings.Schedule.MaximalQueueLifetime);
    }

    /// <summary>
    /// Logs one job's outcomes and records those that need no notice (deferrals, and deliveries nobody asked
    /// to hear of) before the job gives its slot back. A recipient that failed for good, or whose delivery
    /// the sender wants to hear of, is recorded only after its notice is queued (<see cref="FinishAsync"/>):
    /// a crash in between repeats the attempt rather than losing the notice.
    /// </summary>
    private async Task<DeliveryResult[]> SettleAsync(Attempt attempt, IReadOnlyList<DeliveryResult> results)
    {
        QueueEntry entry = attempt.Entry;
        QueuedMessage message = attempt.Message;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        TimeSpan age = now - message.Id.Arrival;
        bool expired = attempt.Expired(age);
        DateTimeOffset next = now + attempt.Settings.Schedule.Backoff(entry.Attempts + 1);
        TimeSpan took = attempt.Clock.Elapsed;
        var finals = new DeliveryResult[results.Count];
        long last = -1;
        for (int i = 0; i < finals.Length; i++)
        {
            DeliveryResult final = results[i];
            // A message that outlived its lifetime is returned with its last temporary status, as Postfix
            // does ("status=expired", DSN 4.x.x with Action: failed).
            if (expired && final.Status == DeliveryStatus.Deferred)
            {
                final = final with { Status = DeliveryStatus.Bounced, Reason = $"message expired after {age.TotalDays:0.##} days in the queue: {final.Reason}" };
            }
            bool softBounce = attempt.Settings.Bounce.SoftBounce && final.Status == DeliveryStatus.Bounced;
            if (softBounce)
            {
                final = final with { Status = DeliveryStatus.Deferred, Dsn = "4" + final.Dsn[1..] };
            }
            finals[i] = final;
            using (TableAnswers.Use(attempt.Routes))
            {
                Log(entry.Id, message, final, expired, age, took, softBounce, attempt.Settings.Resolver);
            }
            if (final.Status == DeliveryStatus.Deferred || (final.Status == DeliveryStatus.Sent && !WantsSuccessNotice(message, final)))
            {
                last = _queue.AppendStatus(entry.Id, final.Recipient, final.Status, next, final.Reason);
                entry.Done[final.Recipient] |= final.Status != DeliveryStatus.Deferred;
                entry.Reasons[final.Recipient] = final.Status == DeliveryStatus.Deferred ? final.Reason : null;
            }
        }
        if (last >= 0)
        {
            await _queue.CommitAsync(last);
        }
        return finals;
    }

    /// <summary>
    /// The end of an attempt: the notices (to the sender, the postmaster's copies, success and delay), then
    /// the status records of the recipients they are about, then removal or the next attempt's time.
    /// </summary>
    private async Task FinishAsync(Attempt attempt, IReadOnlyList<DeliveryResult> finals)
    {
        QueueEntry entry = attempt.Entry;
        QueuedMessage message = attempt.Message;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        TimeSpan age = now - message.Id.Arrival;
        bool expired = attempt.Expired(age);
        QueueSchedule schedule = attempt.Settings.Schedule;
        BounceSettings bounce = attempt.Settings.Bounce;

        var failed = finals.Where(f => f.Status == DeliveryStatus.Bounced && !bounce.IsOwn(message.Sender))
            .Select(f => new BounceMessage.Failure(message.Recipients[f.Recipient], f.Dsn, f.Reason, f.Relay)).ToList();
        await NotifyAsync(attempt, BounceMessage.Reportable(message, failed), "sender non-delivery notification");
        if (message.Sender.Length == 0 ? bounce.DoubleBounce : bounce.Bounce)
        {
            await NotifyAsync(attempt, failed, "postmaster non-delivery notification",
                message.Sender.Length == 0 ? bounce.DoubleBounceRecipient : bounce.BounceRecipient);
        }
        await NotifyAsync(attempt, [.. finals.Where(f => WantsSuccessNotice(message, f))
            .Select(f => new BounceMessage.Failure(message.Recipients[f.Recipient], f.Dsn, f.Reason, f.Relay, f.SuccessAction!))],
            "sender delivery status notification");
        long last = -1;
        // delay_warning_time: once, when the message is that old and some recipients still wait.
        if (schedule.DelayWarning > TimeSpan.Zero && !entry.Warned && !expired && age > schedule.DelayWarning)
        {
            IReadOnlyList<BounceMessage.Failure> waiting = BounceMessage.DelayReportable(message, finals
                .Where(f => f.Status == DeliveryStatus.Deferred)
                .Select(f => new BounceMessage.Failure(message.Recipients[f.Recipient], f.Dsn, f.Reason, f.Relay, "delayed")));
            if (waiting.Count > 0)
            {
                await NotifyAsync(attempt, waiting, "sender delay notification");
                if (bounce.DelayRecipient is { } postmaster)
                {
                    await NotifyAsync(attempt, waiting, "postmaster delay notification", postmaster);
                }
                last = _queue.SetWarned(entry);
            }
        }

        foreach (DeliveryResult final in finals.Where(f => f.Status == DeliveryStatus.Bounced || WantsSuccessNotice(message, f)))
        {
            last = _queue.AppendStatus(entry.Id, final.Recipient, final.Status, now, final.Reason);
            entry.Done[final.Recipient] = true;
            entry.Reasons[final.Recipient] = null;
        }
        bool finished = entry.AllDone;
        if (finished)
        {
            last = _queue.AppendRemoval(entry);
        }
        else
        {
            last = _queue.SetAttempts(entry, entry.Attempts + 1);
            // A flush asked for while this attempt ran (ETRN, postqueue -f) found the message busy: it is due now, not
            // after its backoff, or the flush would have done nothing for it.
            entry.NextAttempt = entry.Flushed ? DateTimeOffset.MinValue : now + schedule.Backoff(entry.Attempts);
        }
        if (last >= 0)
        {
            await _queue.CommitAsync(last);
        }
        if (!finished && entry.Flushed)
        {
            Wake();
        }
        // Removed once the disk says so: a removal it did not take would bring the message back at the next start.
        if (finished)
        {
            _queue.Forget(entry);
            MailLog.Info($"{entry.Id}: removed", "qmgr");
        }
    }

    /// <summary>
    /// A delivery the sender asked to hear of with NOTIFY=SUCCESS, where Edge was the last to see the notify
    /// request (a next hop that takes DSN reports success itself).
    /// </summary>
    private static bool WantsSuccessNotice(QueuedMessage message, DeliveryResult result) =>
        result.Status == DeliveryStatus.Sent && result.SuccessAction is not null && message.Sender.Length > 0
        && (message.Recipients[result.Recipient].Notify & DsnNotify.Success) != 0;

    private static void Log(QueueId id, QueuedMessage message, DeliveryResult final, bool expired, TimeSpan age, TimeSpan took, bool softBounce,
        TransportResolver resolver)
    {
        string status = softBounce ? "SOFTBOUNCE" : final.Status switch
        {
            DeliveryStatus.Sent => "sent",
            DeliveryStatus.Bounced => expired ? "expired" : "bounced",
            _ => "deferred",
        };
        string delay = age.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture);
        string waited = (age - took).TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture);
        string transmission = took.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture);
        QueuedRecipient recipient = message.Recipients[final.Recipient];
        MailLog.Info($"{id}: to=<{recipient.Address}>,{OriginalTo(recipient)} relay={final.Relay}, delay={delay}, delays={waited}/0/0/{transmission}, dsn={final.Dsn}, status={status} ({final.Reason})", final.Service);
        var transport = EdgeMetrics.Tag("transport", final.Service);
        EdgeMetrics.Deliveries.Add(1, transport, EdgeMetrics.Tag("class", resolver.ClassName(recipient.Address)), EdgeMetrics.Tag("status", status));
        EdgeMetrics.DeliveryDuration.Record(took.TotalSeconds, transport);
    }

    /// <summary>" orig_to=&lt;…&gt;," when rewriting or aliasing changed the address the client gave, as Postfix logs it.</summary>
    private static string OriginalTo(QueuedRecipient recipient) =>
        recipient.Original.Equals(recipient.Address, StringComparison.OrdinalIgnoreCase) ? "" : $" orig_to=<{recipient.Original}>,";
}
