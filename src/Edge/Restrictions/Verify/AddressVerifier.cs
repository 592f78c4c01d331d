using System.Collections.Concurrent;
using System.Globalization;
using Edge.Logging;
using Edge.Restrictions.Policy.Store;

namespace Edge.Restrictions.Verify;

/// <summary>
/// verify(8): the address verification cache and its probes, one per server. A query answers from the cache; an
/// address it does not know (or knows too long ago) gets a probe, which a delivery agent takes as far as the next
/// hop's answer to RCPT TO, delivering nothing; the answer goes into the cache. Entries live in edge_policy_store
/// (FasterKV under the queue directory by default, so they survive a restart, or Redis, shared by a fleet), or in
/// memory when address_verify_map is empty. Entries are Postfix's: status, when probed, when updated, and the text.
/// </summary>
/// <param name="time">The clock entries are dated by (tests move it).</param>
internal sealed class AddressVerifier(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Postfix's PROBE_TTL: a probe not answered within this time is taken for lost, and the address probed again.</summary>
    private static readonly TimeSpan ProbeTtl = TimeSpan.FromSeconds(1000);

    private const string KeyPrefix = "verify:";

    private readonly ConcurrentDictionary<string, Task> _probing = new(StringComparer.Ordinal);
    private volatile Configuration? _configuration;

    /// <summary>The settings, and the store opened when first needed (as Postfix starts verify(8) when first asked).</summary>
    private sealed record Configuration(VerifySettings Settings, Lazy<IPolicyStore> Store);

    /// <summary>
    /// Sends a probe from a sender to an address and returns what the next hop said; set once the queue manager runs.
    /// Without it, probes wait as they would in a queue that nothing delivers.
    /// </summary>
    public Func<string, string, CancellationToken, Task<ProbeOutcome>>? Probe { get; set; }

    /// <summary>What stops the probes running in the background: the server's stop.</summary>
    public CancellationToken Stopping { get; set; }

    /// <summary>
    /// Takes new settings and what opens the store that keeps the cache (at start and at each reload). A store that
    /// does not open is tried again at the next query, each failing query answering as a verify service failure.
    /// </summary>
    public void Configure(VerifySettings settings, Func<IPolicyStore> openStore) =>
        _configuration = new Configuration(settings, new Lazy<IPolicyStore>(openStore, LazyThreadSafetyMode.PublicationOnly));

    /// <summary>
    /// smtpd's reject_unverified_address(): asks, and while the answer is "in progress", waits for the probe (up to
    /// <paramref name="pollCount"/> - 1 times <paramref name="pollDelay"/>, as Postfix's polling does) and asks again.
    /// Null when the cache's store cannot be opened (Postfix's "verify service failure").
    /// </summary>
    public async Task<ProbeOutcome?> VerifyAsync(string address, int pollCount, TimeSpan pollDelay, CancellationToken cancellationToken)
    {
        if (_configuration is not { } configuration)
        {
            return null;
        }
        for (int count = 0; ; )
        {
            ProbeOutcome? outcome = await QueryAsync(configuration, address);
            if (outcome is not { Status: VerifyStatus.Todo } || ++count >= pollCount)
            {
                return outcome;
            }
            // Postfix sleeps; the probe's end is awaited too, so a quick next hop answers this RCPT at once.
            Task delay = Task.Delay(pollDelay, cancellationToken);
            await Task.WhenAny(delay, _probing.TryGetValue(address, out Task? probe) ? probe : delay);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Waits until no probe is out (tests).</summary>
    internal Task IdleAsync() => Task.WhenAll(_probing.Values);

    /// <summary>
    /// verify_query_service(): the cache's answer, sending a probe when the entry needs refreshing. Only the query that
    /// starts the probe records that it did, and before the probe can answer, so the answer is never overwritten.
    /// </summary>
    private async Task<ProbeOutcome?> QueryAsync(Configuration configuration, string address)
    {
        VerifySettings settings = configuration.Settings;
        string key = KeyPrefix + address.Replace(':', '_');
        DateTimeOffset now = _time.GetUtcNow();
        IPolicyStore store;
        Entry? entry;
        try
        {
            store = configuration.Store.Value;
        }
        catch (Config.ConfigException e)
        {
            MailLog.Warning($"address verification cache cannot be opened: {e.Message}", "verify");
            return null;
        }
        try
        {
            entry = Entry.Parse(await store.GetAsync(key));
        }
        catch (PolicyStoreUnavailableException e)
        {
            MailLog.Warning($"address verification cache unavailable: {e.Message}", "verify");
            return new ProbeOutcome(VerifyStatus.Defer, "Address verification status unavailable");
        }
        if (entry is null || (now - entry.Probed > ProbeTtl && Expired(settings, entry, now)))
        {
            entry = new Entry(VerifyStatus.Todo, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "Address verification in progress");
        }
        var answer = new ProbeOutcome(entry.Status, entry.Text);
        if (now - entry.Probed > ProbeTtl && RefreshNeeded(settings, entry, now) && Probe is { } probe)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_probing.TryAdd(address, done.Task))
            {
                try
                {
                    if (entry.Updated != DateTimeOffset.UnixEpoch || settings.NegativeCache)
                    {
                        await PutAsync(configuration, key, entry with { Probed = now });
                    }
                    StartProbe(configuration, probe, address, key, done);
                }
                catch (PolicyStoreUnavailableException e)
                {
                    MailLog.Warning($"address verification cache unavailable: {e.Message}", "verify");
                    _probing.TryRemove(address, out _);
                    done.SetResult();
                }
            }
        }
        return answer;
    }

    private static bool Expired(VerifySettings settings, Entry entry, DateTimeOffset now) =>
        entry.Updated + (entry.Status == VerifyStatus.Ok ? settings.PositiveExpire : settings.NegativeExpire) < now;

    private static bool RefreshNeeded(VerifySettings settings, Entry entry, DateTimeOffset now) =>
        entry.Updated + (entry.Status == VerifyStatus.Ok ? settings.PositiveRefresh : settings.NegativeRefresh) < now;

    /// <summary>The probe, in the background; its answer is recorded as verify_update_service() records it.</summary>
    private void StartProbe(Configuration configuration, Func<string, string, CancellationToken, Task<ProbeOutcome>> probe, string address,
        string key, TaskCompletionSource done) =>
        _ = Task.Run(async () =>
        {
            try
            {
                ProbeOutcome outcome = await probe(configuration.Settings.SenderAt(_time.GetUtcNow()), address, Stopping);
                await UpdateAsync(configuration, key, outcome, _time.GetUtcNow());
            }
            catch (Exception e) when (e is OperationCanceledException or PolicyStoreUnavailableException)
            {
                // Stopping, or the cache went away: the probe is lost, and the address is probed again after PROBE_TTL.
            }
            catch (Exception e)
            {
                MailLog.Warning($"address verification probe for {address} failed: {e.Message}", "verify");
            }
            finally
            {
                _probing.TryRemove(address, out _);
                done.SetResult();
            }
        });

    /// <summary>
    /// A probe's answer. A failed probe does not overwrite an address known to be good before that expires, as in
    /// Postfix: the address is probed again at the next query. Without negative caching only good answers are kept.
    /// </summary>
    private static async Task UpdateAsync(Configuration configuration, string key, ProbeOutcome outcome, DateTimeOffset now)
    {
        if (outcome.Status != VerifyStatus.Ok)
        {
            if (!configuration.Settings.NegativeCache)
            {
                return;
            }
            if (Entry.Parse(await configuration.Store.Value.GetAsync(key)) is { Status: VerifyStatus.Ok })
            {
                return;
            }
        }
        await PutAsync(configuration, key, new Entry(outcome.Status, DateTimeOffset.UnixEpoch, now, Printable.Text(outcome.Text)));
    }

    /// <summary>Stored for as long as the entry can be of use: its expiry, or a pending probe's lifetime.</summary>
    private static async Task PutAsync(Configuration configuration, string key, Entry entry)
    {
        VerifySettings settings = configuration.Settings;
        TimeSpan lifetime = (entry.Status == VerifyStatus.Ok ? settings.PositiveExpire : settings.NegativeExpire) + ProbeTtl;
        await configuration.Store.Value.SetAsync(key, entry.ToString(), lifetime.TotalSeconds);
    }

    /// <summary>One cache entry, stored as Postfix's verify(8) stores it: "status:probed:updated:text" (times in seconds).</summary>
    private sealed record Entry(VerifyStatus Status, DateTimeOffset Probed, DateTimeOffset Updated, string Text)
    {
        public static Entry? Parse(string? value)
        {
            string[]? fields = value?.Split(':', 4);
            if (fields is not { Length: 4 }
                || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int status) || status > (int)VerifyStatus.Todo
                || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long probed)
                || !long.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out long updated))
            {
                return null;
            }
            return new Entry((VerifyStatus)status, DateTimeOffset.FromUnixTimeSeconds(probed), DateTimeOffset.FromUnixTimeSeconds(updated), fields[3]);
        }

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{(int)Status}:{Probed.ToUnixTimeSeconds()}:{Updated.ToUnixTimeSeconds()}:{Text}");
    }
}
