using System.Globalization;
using System.Net;
using Edge.Logging;
using Edge.Restrictions.Policy.Store;

namespace Edge.Smtp.Screen;

/// <summary>postscreen's tests, in the order of its cache records.</summary>
internal enum ScreenTest
{
    Pregreet,
    Dnsbl,
    Pipelining,
    NonSmtp,
    BareNewline,
}

/// <summary>
/// postscreen's temporary allowlist: per client address, when each test's pass expires (Unix seconds, in the order of
/// <see cref="ScreenTest"/>, as Postfix's "pregreet;dnsbl;pipelining;non-smtp;bare-newline" record; 0 for never
/// passed, 1 for never passed while the test was off). Kept in edge_policy_store, so that it outlives a restart and
/// a fleet on Redis shares it. Postfix's cleanup, every postscreen_cache_cleanup_interval, drops a record whose first
/// enabled test has been expired for postscreen_cache_retention_time; here a record lives that long, and at least until
/// the next cleanup would have run. A store that does not answer makes every client new, with a warning at most once
/// a minute; the store is null when postscreen_cache_map is empty (no cache).
/// </summary>
internal sealed class ScreenCache(IPolicyStore? store, TimeSpan retention, TimeSpan cleanupInterval)
{
    public const int Tests = 5;

    private long _lastWarning;

    /// <summary>The client's expiry times, or null when it has no record (or the store did not answer).</summary>
    public async ValueTask<long[]?> LookupAsync(IPAddress client)
    {
        if (store is null)
        {
            return null;
        }
        string? record;
        try
        {
            record = await store.GetAsync(Key(client));
        }
        catch (PolicyStoreUnavailableException e)
        {
            MailLog.WarningOncePerMinute(ref _lastWarning, () => $"postscreen_cache_map: {e.Message}: clients are tested as new", "postscreen");
            return null;
        }
        if (record is null)
        {
            return null;
        }
        string[] fields = record.Split(';');
        var expiry = new long[Tests];
        for (int i = 0; i < Tests; i++)
        {
            // Fields a record lacks, or cannot be read, count as never passed while the test was off.
            expiry[i] = i < fields.Length && long.TryParse(fields[i], NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : 1;
        }
        return expiry;
    }

    public async ValueTask UpdateAsync(IPAddress client, long[] expiry, Func<ScreenTest, bool> enabled, long now)
    {
        if (store is null)
        {
            return;
        }
        long firstExpiry = long.MaxValue;
        for (int i = 0; i < Tests; i++)
        {
            if (enabled((ScreenTest)i))
            {
                firstExpiry = Math.Min(firstExpiry, expiry[i]);
            }
        }
        // A cleanup interval of 0 means Postfix never cleans up: the retention time is the least a record is kept then.
        double least = (cleanupInterval > TimeSpan.Zero ? cleanupInterval : retention).TotalSeconds;
        double lifetime = Math.Max(least, firstExpiry == long.MaxValue ? 0 : firstExpiry - now + retention.TotalSeconds);
        try
        {
            await store.SetAsync(Key(client), string.Join(';', expiry), lifetime);
        }
        catch (PolicyStoreUnavailableException e)
        {
            MailLog.WarningOncePerMinute(ref _lastWarning, () => $"postscreen_cache_map: {e.Message}: the client's passes are not remembered", "postscreen");
        }
    }

    private static string Key(IPAddress client) => "postscreen/" + client;
}
