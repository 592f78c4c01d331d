namespace Edge.Restrictions.Policy.Store;

/// <summary>
/// Where policy scripts keep what must outlive a call (<c>store</c>): greylisted triplets, rate counters. Every
/// operation is safe to call from any thread; a value is forgotten after its lifetime. Local stores answer at once;
/// a remote one is awaited without holding a thread. A store that cannot be
/// reached throws <see cref="PolicyStoreUnavailableException"/>, and the call answers edge_policy_store_failure_action.
/// </summary>
internal interface IPolicyStore : IAsyncDisposable
{
    /// <summary>The value, or null when there is none or it expired.</summary>
    ValueTask<string?> GetAsync(string key);

    /// <summary>Remembers the value for <paramref name="seconds"/>.</summary>
    ValueTask SetAsync(string key, string value, double seconds);

    /// <summary>Adds one to a counter that lives <paramref name="seconds"/> from its first increment, atomically; the new count.</summary>
    ValueTask<long> IncrementAsync(string key, double seconds);
}

/// <summary>The store did not answer (Redis down, disk failing): the script is not to decide without it.</summary>
internal sealed class PolicyStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
