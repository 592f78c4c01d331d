using System.Collections.Concurrent;
using System.Globalization;
using Edge.Logging;
using Jint;
using Jint.Native;
using Jint.Runtime.Interop;

namespace Edge.Restrictions.Policy;

/// <summary>
/// The <c>store</c> object of policy scripts: values shared by every request and every worker thread, each
/// forgotten after its lifetime — the memory a greylisting or rate-limiting policy needs. Held in this process
/// only: a restart forgets it, as it forgets a policy server's in-memory state.
/// <list type="bullet">
/// <item><c>store.get(key)</c>: the value, or null when there is none or it expired.</item>
/// <item><c>store.set(key, value, seconds)</c>: remembers the value (as a string) for that long.</item>
/// <item><c>store.increment(key, seconds)</c>: adds one to a counter that lives <c>seconds</c> from its first
/// increment, and returns the new count.</item>
/// </list>
/// </summary>
internal static class PolicyStore
{
    /// <summary>Entries kept at most; past it, set and increment store nothing (and say so once).</summary>
    private const int MaxEntries = 1_000_000;

    private sealed record Entry(string Value, long Expires);

    private static readonly ConcurrentDictionary<string, Entry> s_entries = new(StringComparer.Ordinal);
    private static int s_writes;
    private static int s_fullLogged;

    /// <summary>The <c>store</c> object for one engine.</summary>
    public static JsObject Create(Engine engine)
    {
        var store = new JsObject(engine);
        store.Set("get", new ClrFunction(engine, "get", (_, a) => Get(Argument(a, 0).ToString()), 1));
        store.Set("set", new ClrFunction(engine, "set", (_, a) => Set(Argument(a, 0).ToString(), Argument(a, 1).ToString(), Seconds(Argument(a, 2))), 3));
        store.Set("increment", new ClrFunction(engine, "increment", (_, a) => Increment(Argument(a, 0).ToString(), Seconds(Argument(a, 1))), 2));
        return store;
    }

    private static JsValue Argument(JsValue[] arguments, int index) => index < arguments.Length ? arguments[index] : JsValue.Undefined;

    /// <summary>A lifetime in seconds; what is not a number is no time at all.</summary>
    private static double Seconds(JsValue value) => value.IsNumber() ? value.AsNumber() : 0;

    private static JsValue Get(string key) =>
        s_entries.TryGetValue(key, out Entry? entry) && entry.Expires > Environment.TickCount64 ? entry.Value : JsValue.Null;

    private static bool Set(string key, string value, double seconds)
    {
        if (!HasRoom())
        {
            return false;
        }
        s_entries[key] = new Entry(value, Expiry(seconds));
        return true;
    }

    private static int Increment(string key, double seconds)
    {
        if (!HasRoom())
        {
            return 0;
        }
        long now = Environment.TickCount64;
        Entry entry = s_entries.AddOrUpdate(key,
            static (_, expires) => new Entry("1", expires),
            static (_, old, expires) => old.Expires > Environment.TickCount64
                ? old with { Value = ((int.TryParse(old.Value, out int count) ? count : 0) + 1).ToString(CultureInfo.InvariantCulture) }
                : new Entry("1", expires),
            now + (long)(Math.Max(0, seconds) * 1000));
        return int.TryParse(entry.Value, out int count) ? count : 0;
    }

    private static long Expiry(double seconds) => Environment.TickCount64 + (long)(Math.Max(0, seconds) * 1000);

    /// <summary>Every 10,000th write sweeps out what expired; a full store refuses writes rather than grow without end.</summary>
    private static bool HasRoom()
    {
        if (Interlocked.Increment(ref s_writes) % 10_000 == 0 || s_entries.Count >= MaxEntries)
        {
            long now = Environment.TickCount64;
            foreach ((string key, Entry entry) in s_entries)
            {
                if (entry.Expires <= now)
                {
                    s_entries.TryRemove(key, out _);
                }
            }
        }
        if (s_entries.Count < MaxEntries)
        {
            return true;
        }
        if (Interlocked.Exchange(ref s_fullLogged, 1) == 0)
        {
            MailLog.Warning($"policy scripts: the store holds {MaxEntries} entries; new ones are not kept until old ones expire");
        }
        return false;
    }
}
