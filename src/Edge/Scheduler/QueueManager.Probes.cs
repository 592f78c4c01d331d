using System.Diagnostics;
using System.Globalization;
using Edge.Cleanup;
using Edge.Delivery;
using Edge.Logging;
using Edge.Mail;
using Edge.Queue;
using Edge.Resolve;
using Edge.Tables;

namespace Edge.Scheduler;

/// <summary>
/// Address verification probes (verify(8)): the path a Postfix probe message takes through cleanup, qmgr and a
/// delivery agent, without the message. The address is rewritten and expanded as cleanup would (canonical_maps,
/// virtual_alias_maps), each address it reaches is routed by the address_verify_* routing and put to its transport's
/// agent within the transport's maxproc, and the agent stops at the next hop's answer to RCPT TO. Nothing is queued
/// or delivered; each answer is logged as Postfix logs a probe's ("status=deliverable" or "undeliverable").
/// </summary>
internal sealed partial class QueueManager
{
    /// <summary>
    /// What delivery to <paramref name="address"/> from <paramref name="sender"/> would do now: sent when any address
    /// it reaches would be delivered (as a failed probe does not overwrite a good answer in Postfix), otherwise the
    /// first failure.
    /// </summary>
    public async Task<DeliveryResult> ProbeAsync(string sender, string address, CancellationToken cancellationToken)
    {
        QueueManagerSettings settings = _settings;
        // As Postfix's qmgr: probes past address_verify_pending_request_limit wait, so that a client naming
        // thousands of unknown addresses cannot take the delivery agents from the mail.
        if (Interlocked.Increment(ref _probes) > settings.Schedule.ProbeLimit)
        {
            Interlocked.Decrement(ref _probes);
            return new DeliveryResult(0, DeliveryStatus.Deferred, "4.3.2", "Too many address verification requests", "none");
        }
        try
        {
            return await SendProbeAsync(settings, sender, address, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _probes);
        }
    }

    /// <summary>The probes out now.</summary>
    private int _probes;

    private async Task<DeliveryResult> SendProbeAsync(QueueManagerSettings settings, string sender, string address, CancellationToken cancellationToken)
    {
        CleanupSettings cleanup = settings.Internal.Forwarded.Cleanup;
        var id = QueueId.New();
        string qualified = cleanup.LocalRewrite.Rewrite(address);
        // What the rewriting asks of tables a server answers is fetched first: a session waits for this probe.
        var lookups = new TableAnswers();
        if (cleanup.Rewriting.IsRemote || cleanup.VirtualAliases.IsRemote)
        {
            await lookups.AskAheadAsync(() => cleanup.Rewriting.Rewrite(qualified, AddressRole.EnvelopeRecipient, id, log: false) is { } ahead
                ? cleanup.VirtualAliases.Expand(ahead, out _) : null, cancellationToken);
        }
        string? rewritten;
        string? error = null;
        List<string>? targets;
        using (TableAnswers.Use(lookups))
        {
            rewritten = cleanup.Rewriting.Rewrite(qualified, AddressRole.EnvelopeRecipient, id);
            targets = rewritten is null ? null : cleanup.VirtualAliases.Expand(rewritten, out error);
        }
        if (targets is null)
        {
            return new DeliveryResult(0, DeliveryStatus.Deferred, "4.3.0", error ?? $"canonical mapping lookup failure for {address}", "none");
        }
        var recipients = targets.Select(t => new QueuedRecipient(t, t.Equals(address, StringComparison.OrdinalIgnoreCase) ? "" : $"rfc822;{address}",
            DsnNotify.Unspecified)).ToList();
        var probe = new QueuedMessage(id, 0, "localhost", "127.0.0.1", "", "verify", sender.Length == 0 ? "" : cleanup.LocalRewrite.Rewrite(sender), "",
            DsnReturn.Unspecified, BodyType.SevenBit, false, recipients, []);
        TableAnswers? routes = await RoutesAheadAsync(probe, settings.ProbeResolver, cancellationToken);
        List<IGrouping<Route, int>> groups;
        using (TableAnswers.Use(routes))
        {
            probe = Delivered(probe, settings.ProbeResolver);
            groups = [.. Enumerable.Range(0, recipients.Count).GroupBy(r => settings.ProbeResolver.Resolve(probe.Recipients[r].Address))];
        }
        var clock = Stopwatch.StartNew();
        // A probe stops with the queue manager, as its deliveries do.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
        DeliveryResult[][] answers = await Task.WhenAll(groups.Select(g => ProbeGroupAsync(settings, probe, g.Key, [.. g], stop.Token)));
        DeliveryResult[] results = [.. answers.SelectMany(a => a)];
        foreach (DeliveryResult result in results)
        {
            LogProbe(probe, result, clock.Elapsed);
        }
        return results.FirstOrDefault(r => r.Status == DeliveryStatus.Sent) ?? results[0];
    }

    private async Task<DeliveryResult[]> ProbeGroupAsync(QueueManagerSettings settings, QueuedMessage probe, Route route, int[] recipients,
        CancellationToken cancellationToken)
    {
        if (settings.DeferTransports.Contains(route.Transport))
        {
            return [.. recipients.Select(r => new DeliveryResult(r, DeliveryStatus.Deferred, "4.3.2", "deferred transport", "none"))];
        }
        if (!settings.Transports.TryGetValue(route.Transport, out var transport))
        {
            return [.. recipients.Select(r => new DeliveryResult(r, DeliveryStatus.Deferred, "4.3.0", "mail transport unavailable", "none"))];
        }
        // A probe meets the destination as mail does: not tried while it is dead, and within its concurrency window.
        Destination destination = _destinations.GetOrAdd(route, _ => new Destination(transport.Policy));
        if (Suspended(destination, recipients, "qmgr") is { } suspended)
        {
            return suspended;
        }
        // The agent's work belongs on the thread pool, not on the session's I/O thread that asked.
        await Task.Yield();
        await destination.EnterAsync(cancellationToken);
        DeliveryResult[] results = [];
        try
        {
            await transport.Slots.WaitAsync(cancellationToken);
            try
            {
                var job = new DeliveryJob(probe, recipients, route.Nexthop,
                    (_, _) => throw new InvalidOperationException("a probe has no content"),
                    (_, _, _) => throw new InvalidOperationException("a probe is not forwarded"));
                results = [.. (await transport.Transport.VerifyAsync(job, cancellationToken)).Select(r => r with { Service = transport.Transport.Service })];
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                results = [.. recipients.Select(r => new DeliveryResult(r, DeliveryStatus.Deferred, "4.3.0",
                    $"delivery agent {transport.Transport.Service} failed: {e.Message}", "none") { Service = transport.Transport.Service })];
            }
            finally
            {
                transport.Slots.Release();
            }
            return results;
        }
        finally
        {
            Feedback(destination, results, settings.Schedule.MinimalBackoff);
        }
    }

    private static void LogProbe(QueuedMessage probe, DeliveryResult result, TimeSpan took)
    {
        string seconds = took.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture);
        QueuedRecipient recipient = probe.Recipients[result.Recipient];
        string status = result.Status == DeliveryStatus.Sent ? "deliverable" : "undeliverable";
        MailLog.Info($"{probe.Id}: to=<{recipient.Address}>,{OriginalTo(recipient)} relay={result.Relay}, delay={seconds}, " +
            $"delays=0/0/0/{seconds}, dsn={result.Dsn}, status={status} ({result.Reason})", result.Service);
    }
}
