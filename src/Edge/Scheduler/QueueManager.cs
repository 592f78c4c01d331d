using System.Diagnostics;
using System.Text;
using Edge.Cleanup;
using Edge.Delivery;
using Edge.Logging;
using Edge.Mail;
using Edge.Queue;
using Edge.Resolve;
using Edge.Tables;

namespace Edge.Scheduler;

/// <summary>
/// qmgr(8): takes due messages from the queue, routes each pending recipient (trivial-rewrite), hands the
/// recipients of each transport and next hop to that transport's agent within its maxproc slots, writes
/// every outcome to the log as a status record, and either removes the finished message or defers it
/// with backoff. A restart resumes from the status records: a recipient that was delivered is not
/// delivered again.
/// </summary>
internal sealed partial class QueueManager : IAsyncDisposable
{
    /// <summary>How often the log is cut back to what the queue still needs (and old messages copied forward).</summary>
    private static readonly TimeSpan TruncationInterval = TimeSpan.FromSeconds(2);

    private readonly QueueStore _queue;
    private readonly LocalSubmission _local;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Route, Destination> _destinations = new();
    private volatile QueueManagerSettings _settings;
    private readonly SemaphoreSlim _active;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _running;

    public QueueManager(QueueStore queue, QueueManagerSettings settings)
    {
        _queue = queue;
        _local = new LocalSubmission(queue);
        _settings = settings;
        _active = new SemaphoreSlim(settings.Schedule.ActiveLimit);
        _meter = Meter();
        queue.Arrived += Wake;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>
    /// A reload: attempts that start from now on use the new settings; those in progress finish with theirs.
    /// Transports keep their maxproc slots and destinations their windows unless their limits changed.
    /// </summary>
    public void Reconfigure(QueueManagerSettings settings)
    {
        QueueManagerSettings previous = _settings;
        if (settings.Schedule.ActiveLimit != previous.Schedule.ActiveLimit)
        {
            MailLog.Warning("reload: qmgr_message_active_limit changed; it takes effect when Edge is restarted", "qmgr");
        }
        _settings = settings.KeepingSlotsOf(previous);
        foreach ((Route route, Destination destination) in _destinations)
        {
            if (!settings.Transports.TryGetValue(route.Transport, out var transport) || transport.Policy != destination.Policy)
            {
                _destinations.TryRemove(route, out _);
            }
        }
        Wake();
    }

    /// <summary>
    /// postqueue -f (no site): every deferred message is due now; postqueue -s site: those with a pending
    /// recipient in the site, which fast_flush_domains must hold. Either way the next attempt also runs the
    /// defer_transports, and no destination is dead any more, as a flush does in Postfix. Returns why a site
    /// was refused, or null.
    /// </summary>
    public async Task<string?> FlushAsync(string? site)
    {
        if (site is not null && !_settings.FastFlushDomains.Contains(Encoding.UTF8.GetBytes(site)))
        {
            return $"mail for {site} is not eligible for fast flush: the site is not in fast_flush_domains";
        }
        foreach (Destination destination in _destinations.Values)
        {
            destination.Revive();
        }
        foreach (QueueEntry entry in _queue.Entries)
        {
            if (site is null || await HasPendingMailForAsync(entry, site))
            {
                entry.Flushed = true;
                entry.NextAttempt = DateTimeOffset.MinValue;
            }
        }
        Wake();
        return null;
    }

    /// <summary>
    /// ETRN: false when fast_flush_domains does not hold the site; otherwise its flush (as postqueue -s) starts and
    /// the client is answered at once, as Postfix's flush service answers before it searches the queue.
    /// </summary>
    public bool BeginFlush(string site)
    {
        if (!_settings.FastFlushDomains.Contains(Encoding.UTF8.GetBytes(site)))
        {
            return false;
        }
        _ = FlushAsync(site).ContinueWith(static (flush, site) => Logging.MailLog.Warning($"flush of {site} failed: {flush.Exception!.InnerException!.Message}"),
            site, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return true;
    }

    private async Task<bool> HasPendingMailForAsync(QueueEntry entry, string site)
    {
        QueuedMessage message = await _queue.ReadEnvelopeAsync(entry, _stop.Token);
        return Enumerable.Range(0, message.Recipients.Count).Any(r => !entry.Done[r]
            && message.Recipients[r].Address.AsSpan(message.Recipients[r].Address.LastIndexOf('@') + 1).Equals(site, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Looks at the queue now rather than at the next tick: a message arrived, or postsuper changed one.</summary>
    public void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    private async Task RunAsync()
    {
        DateTimeOffset truncated = DateTimeOffset.MinValue;
        DateTimeOffset deferredScan = DateTimeOffset.MinValue;
        while (!_stop.IsCancellationRequested)
        {
            DateTimeOffset now = DateTimeOffset.UtcNow;
            // queue_run_delay: deferred mail whose wait is over goes out with the next scan of the deferred
            // queue, as in Postfix, not the moment its backoff ends; new mail and flushed mail go at once.
            bool scanDeferred = now - deferredScan >= _settings.Schedule.QueueRunDelay;
            if (scanDeferred)
            {
                deferredScan = now;
            }
            // A log that is too long is seen to at once, but at most ten times a second: when something that
            // cannot move (a message being received or delivered) holds it, every arrival would otherwise
            // start another pass over the queue.
            if (now - truncated > TruncationInterval || (_queue.LogTooLong && now - truncated > TimeSpan.FromMilliseconds(100)))
            {
                truncated = now;
                try
                {
                    // Here, between the rounds that start deliveries: no delivery starts while messages move.
                    await _queue.CompactAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (Exception e)
                {
                    // The queue is as it was (a copy not committed is garbage): delivery goes on, and the
                    // next round tries again.
                    MailLog.Warning($"queue log compaction failed: {e.Message}", "qmgr");
                }
            }
            foreach (QueueEntry entry in MayDeliver() ? _queue.Entries : [])
            {
                bool waiting = entry.Attempts > 0 && entry.NextAttempt != DateTimeOffset.MinValue && !scanDeferred;
                if (entry.Active || entry.Hold || entry.NextAttempt > now || waiting || !_active.Wait(0))
                {
                    continue;
                }
                entry.Active = true;
                Interlocked.Increment(ref _running);
                _ = DeliverAsync(entry);
            }
            try
            {
                await _wake.WaitAsync(TimeSpan.FromSeconds(1), _stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private bool _holding;

    /// <summary>
    /// No delivery starts while the queue cannot record what it did: while a log write waits for disk space, or once
    /// the log is broken; a delivery whose outcome cannot be recorded would be made again after a restart.
    /// </summary>
    private bool MayDeliver()
    {
        bool hold = _queue.WritesStalled || _queue.Broken;
        if (hold != _holding)
        {
            _holding = hold;
            if (hold)
            {
                MailLog.Warning("no delivery starts until the queue can record delivery outcomes again", "qmgr");
            }
            else
            {
                MailLog.Info("deliveries resume: the queue records outcomes again", "qmgr");
            }
        }
        return !hold;
    }

    /// <summary>
    /// A message with a content filter goes, every recipient, to the filter's transport and destination instead of its
    /// own route, as Postfix's qmgr sends it; a filter without a destination sends each recipient to its domain.
    /// </summary>
    private static Route FilterRoute(string filter, string recipient)
    {
        Route route = Route.Parse(filter);
        int at = recipient.LastIndexOf('@');
        return route.Nexthop.Length > 0 || at < 0 ? route : route with { Nexthop = recipient[(at + 1)..].ToLowerInvariant() };
    }

    /// <summary>
    /// Fetches, without holding a thread, what routing <paramref name="message"/>'s recipients asks of tables a server
    /// answers (domain lists, transport_maps, relocated_maps); null when the routing asks none. A table that cannot
    /// answer is left to the routing itself, which then fails the attempt (the message waits for the next).
    /// </summary>
    private static async ValueTask<TableAnswers?> RoutesAheadAsync(QueuedMessage message, TransportResolver resolver, CancellationToken cancellationToken)
    {
        if (!resolver.IsRemote)
        {
            return null;
        }
        var answers = new TableAnswers();
        foreach (QueuedRecipient recipient in message.Recipients)
        {
            await answers.AskAheadAsync(() => resolver.Resolve(resolver.Delivered(recipient.Address)), cancellationToken);
        }
        return answers;
    }

    /// <summary>
    /// The message with each recipient as the resolver delivers it: a routed address ("user%host@local.domain") is
    /// delivered, logged and reported as the inner one, as Postfix's qmgr updates it; usually the message itself.
    /// </summary>
    private static QueuedMessage Delivered(QueuedMessage message, TransportResolver resolver)
    {
        QueuedRecipient[]? changed = null;
        for (int i = 0; i < message.Recipients.Count; i++)
        {
            QueuedRecipient recipient = message.Recipients[i];
            string delivered = resolver.Delivered(recipient.Address);
            if (delivered != recipient.Address)
            {
                changed ??= [.. message.Recipients];
                changed[i] = recipient with { Address = delivered, Orcpt = recipient.Orcpt.Length > 0 ? recipient.Orcpt : $"rfc822;{recipient.Address}" };
            }
        }
        return changed is null ? message : message with { Recipients = changed };
    }

    private async Task DeliverAsync(QueueEntry entry)
    {
        try
        {
            QueuedMessage message = await _queue.ReadEnvelopeAsync(entry, _stop.Token);
            TableAnswers? routes = entry.Filter is null ? await RoutesAheadAsync(message, _settings.Resolver, _stop.Token) : null;
            List<IGrouping<Route, int>> groups;
            Attempt attempt;
            using (TableAnswers.Use(routes))
            {
                // A message on its way to a content filter goes there as it is, as Postfix's qmgr sends it unresolved.
                message = entry.Filter is null ? Delivered(message, _settings.Resolver) : message;
                attempt = new Attempt(entry, message, _settings, Stopwatch.StartNew(), entry.Flushed, routes);
                groups = [.. Enumerable.Range(0, message.Recipients.Count)
                    .Where(r => !entry.Done[r])
                    .GroupBy(r => entry.Filter is { } filter ? FilterRoute(filter, message.Recipients[r].Address)
                        : attempt.Settings.Resolver.Resolve(message.Recipients[r].Address))];
            }
            entry.Flushed = false;
            DeliveryResult[][] outcomes = await Task.WhenAll(groups.Select(g => DeliverGroupAsync(attempt, g.Key, [.. g])));
            await FinishAsync(attempt, [.. outcomes.SelectMany(o => o)]);
        }
        catch (IOException e)
        {
            // The queue did not take the outcomes (or a notice): they hold in memory (no recipient is tried twice
            // while Edge runs), and the message stays queued for the next attempt to record them.
            MailLog.Warning($"{entry.Id}: the delivery attempt cannot be recorded: {e.Message}; the message stays queued", "qmgr");
            entry.NextAttempt = DateTimeOffset.UtcNow + _settings.Schedule.Backoff(++entry.Attempts);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            MailLog.Warning($"{entry.Id}: delivery attempt failed: {e.Message}", "qmgr");
            entry.NextAttempt = DateTimeOffset.UtcNow + _settings.Schedule.Backoff(++entry.Attempts);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the message stays as it is, for the next start.
        }
        finally
        {
            entry.Active = false;
            _active.Release();
            Interlocked.Decrement(ref _running);
        }
    }

    /// <summary>
    /// The recipients of one message for one destination: in jobs of at most the transport's
    /// destination_recipient_limit, each within the destination's concurrency window and the transport's
    /// maxproc. A dead destination is not tried: its recipients wait with the reason it died of. Nor is a
    /// transport in defer_transports, unless a flush asked for the message.
    /// </summary>
    private async Task<DeliveryResult[]> DeliverGroupAsync(Attempt attempt, Route route, int[] recipients)
    {
        if (!attempt.Flushed && attempt.Settings.DeferTransports.Contains(route.Transport))
        {
            return await SettleAsync(attempt, [.. recipients.Select(r => new DeliveryResult(r, DeliveryStatus.Deferred, "4.3.2", "deferred transport", "none"))]);
        }
        if (!attempt.Settings.Transports.TryGetValue(route.Transport, out var transport))
        {
            // Postfix's words, with its warning naming the service that is missing.
            MailLog.Warning($"connect to transport private/{route.Transport}: no such service in master.cf", "qmgr");
            transport = (new UnavailableTransport("qmgr", "mail transport unavailable"), new SemaphoreSlim(1), 1, DestinationPolicy.Default);
        }
        Destination destination = _destinations.GetOrAdd(route, _ => new Destination(transport.Policy));
        if (Suspended(destination, recipients, transport.Transport.Service) is { } suspended)
        {
            return await SettleAsync(attempt, suspended);
        }
        int limit = transport.Policy.RecipientLimit > 0 ? transport.Policy.RecipientLimit : recipients.Length;
        DeliveryResult[][] jobs = await Task.WhenAll(recipients.Chunk(limit)
            .Select(chunk => DeliverJobAsync(attempt, route, chunk, transport.Transport, transport.Slots, destination)));
        return [.. jobs.SelectMany(j => j)];
    }

    /// <summary>
    /// One delivery agent run. Its slot of the transport's maxproc is given back once the outcomes it can
    /// settle are on disk: at a crash, at most maxproc deliveries per transport can have happened without
    /// their status being recorded. An agent that fails defers its own recipients, never those of others.
    /// </summary>
    private async Task<DeliveryResult[]> DeliverJobAsync(Attempt attempt, Route route, int[] recipients,
        ITransport transport, SemaphoreSlim slots, Destination destination)
    {
        QueuedMessage message = attempt.Message;
        // Socket completions run inline on the I/O threads that also serve SMTP sessions; an agent's work
        // (reading the queue, writing mailboxes, building notices) belongs on the thread pool.
        await Task.Yield();
        await destination.EnterAsync(_stop.Token);
        IReadOnlyList<DeliveryResult> results = [];
        bool left = false;
        // Feedback is given before the outcomes are logged, so that mail arriving after a log line that says the
        // destination failed finds it marked so.
        void Leave()
        {
            left = true;
            Feedback(destination, results, attempt.Settings.Schedule.MinimalBackoff);
        }
        try
        {
            await slots.WaitAsync(_stop.Token);
            try
            {
                var job = new DeliveryJob(message, recipients, route.Nexthop,
                    (output, token) => _queue.CopyContentAsync(message, output, token),
                    (addresses, header, token) => _local.SubmitAsync(attempt.Settings.Internal.Forwarded, message.Sender, addresses, async (output, t) =>
                    {
                        await output.WriteAsync(Encoding.UTF8.GetBytes(header), t);
                        await _queue.CopyContentAsync(message, output, t);
                    }, token));
                try
                {
                    results = await transport.DeliverAsync(job, _stop.Token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    MailLog.Warning($"{message.Id}: {transport.Service} delivery to {route.Nexthop} failed: {e.Message}", "qmgr");
                    results = [.. recipients.Select(r => new DeliveryResult(r, DeliveryStatus.Deferred, "4.3.0",
                        $"delivery agent {transport.Service} failed: {e.Message}", "none"))];
                }
                foreach (DeliveryResult result in results)
                {
                    result.Service = result.PassedTo ?? transport.Service;
                }
                Leave();
                return await SettleAsync(attempt, results);
            }
            finally
            {
                slots.Release();
            }
        }
        finally
        {
            if (!left)
            {
                Leave();
            }
        }
    }

    /// <summary>A dead destination's recipients wait with the reason it died of, untried; null while it lives.</summary>
    private static DeliveryResult[]? Suspended(Destination destination, IEnumerable<int> recipients, string service) =>
        destination.Dead is { } dead && dead.Until > DateTimeOffset.UtcNow
            ? [.. recipients.Select(r => new DeliveryResult(r, DeliveryStatus.Deferred, "4.4.1", $"delivery temporarily suspended: {dead.Reason}", "none")
            {
                Service = service,
            })]
            : null;

    /// <summary>An agent run's feedback to its destination: a session with it, whatever it said of the recipients, is a success.</summary>
    private static void Feedback(Destination destination, IReadOnlyList<DeliveryResult> results, TimeSpan backoff) =>
        destination.Leave(results.Any(r => r.Status != DeliveryStatus.Deferred || r.Relay != "none"),
            results.FirstOrDefault()?.Reason ?? "delivery interrupted", backoff);

    /// <summary>
    /// Queues a notice about <paramref name="reports"/>, if there are any, as bounce(8) does: to the sender from
    /// the null sender, or the postmaster's copy to <paramref name="postmaster"/> from double_bounce_sender.
    /// </summary>
    private async Task NotifyAsync(Attempt attempt, IReadOnlyList<BounceMessage.Failure> reports, string what,
        string? postmaster = null)
    {
        if (reports.Count == 0)
        {
            return;
        }
        QueuedMessage message = attempt.Message;
        QueueManagerSettings settings = attempt.Settings;
        QueueId notice = await _local.SubmitAsync(postmaster is null ? settings.Internal.Bounce : settings.Internal.Notify, postmaster is null ? "" : settings.Bounce.Sender, [postmaster ?? message.Sender],
            (output, token) => BounceMessage.WriteAsync(output, message, reports, settings.MyHostname,
                (original, t) => _queue.CopyContentAsync(message, original, t), token, settings.Bounce.SizeLimit,
                settings.Schedule.MaximalQueueLifetime, postmaster),
            _stop.Token);
        MailLog.Info($"{message.Id}: {what}: {notice}", "bounce");
    }

    public async ValueTask DisposeAsync()
    {
        _meter.Dispose();
        _queue.Arrived -= Wake;
        _stop.Cancel();
        await _loop;
        for (int i = 0; i < 300 && Volatile.Read(ref _running) > 0; i++)
        {
            await Task.Delay(10);
        }
        _stop.Dispose();
    }
}
