using Edge.Config;

namespace Edge.Restrictions.Policy.Store;

/// <summary>
/// The policy stores one Edge server has open (edge_policy_store), each opened once however many listeners and
/// reloads name it, and closed (a last checkpoint) when the server stops. Tools that only check or try scripts
/// (<c>edge check</c>, <c>edge policy test</c>) get a memory store for faster:, so they never touch the state a
/// running server owns; redis: is shared by design, so they use it.
/// </summary>
internal sealed class PolicyStores(bool openFaster) : IAsyncDisposable
{
    private readonly Dictionary<string, IPolicyStore> _open = new(StringComparer.Ordinal);

    /// <summary>Whether the store edge_policy_store names is one that several servers share (redis:).</summary>
    public static bool IsShared(MainConfig config) => config.Get("edge_policy_store").Trim().StartsWith("redis:", StringComparison.Ordinal);

    /// <summary>The store edge_policy_store names; throws the configuration error when it cannot be used.</summary>
    public IPolicyStore Open(MainConfig config, TimeSpan timeLimit)
    {
        string spec = config.Get("edge_policy_store").Trim();
        (string kind, string target) = spec.IndexOf(':') is int colon and > 0 ? (spec[..colon], spec[(colon + 1)..].Trim()) : (spec, "");
        if (kind == "faster" && target.Length > 0)
        {
            target = Path.GetFullPath(target);
        }
        string key = kind + ":" + target;
        lock (_open)
        {
            if (_open.TryGetValue(key, out IPolicyStore? open))
            {
                return open;
            }
            string? error = null;
            IPolicyStore? store = (kind, target.Length > 0) switch
            {
                ("memory", false) => new MemoryPolicyStore(),
                ("faster", true) when !openFaster => new MemoryPolicyStore(),
                ("faster", true) => FasterPolicyStore.Open(target, out error),
                ("redis", true) => RedisPolicyStore.Open(target, timeLimit, out error),
                _ => null,
            };
            if (store is null)
            {
                throw config.Error("edge_policy_store", error ?? $"\"{spec}\" is not memory, faster:DIRECTORY or redis:HOST:PORT");
            }
            _open[key] = store;
            return store;
        }
    }

    public async ValueTask DisposeAsync()
    {
        IPolicyStore[] stores;
        lock (_open)
        {
            stores = [.. _open.Values];
            _open.Clear();
        }
        foreach (IPolicyStore store in stores)
        {
            await store.DisposeAsync();
        }
    }
}
