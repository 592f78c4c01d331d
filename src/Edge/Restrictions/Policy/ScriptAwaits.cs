using Edge.Restrictions.Policy.Store;
using Jint;
using Jint.Native;
using Jint.Native.Promise;

namespace Edge.Restrictions.Policy;

/// <summary>
/// The work a call of a policy script waits for (a DNS lookup, a Redis command): each helper hands the script a
/// promise at once, and the call settles it, on the thread that then owns the engine, when the work is done — so a
/// script that awaits holds no thread meanwhile. Work that finished at once is settled at once.
/// </summary>
internal sealed class ScriptAwaits(Engine engine)
{
    private sealed record Work(Task Task, Func<JsValue> Result, ManualPromise Promise);

    private readonly List<Work> _pending = [];

    /// <summary>Whether some promise a helper gave is still to be settled.</summary>
    public bool Waiting => _pending.Count > 0;

    /// <summary>A promise of <paramref name="work"/>'s result, as <paramref name="result"/> makes it a script value.</summary>
    public JsValue Promise<T>(ValueTask<T> work, Func<T, JsValue> result)
    {
        ManualPromise promise = engine.Advanced.RegisterPromise();
        if (work.IsCompletedSuccessfully)
        {
            promise.Resolve(result(work.Result));
            return promise.Promise;
        }
        Task<T> task = work.AsTask();
        _pending.Add(new Work(task, () => result(task.Result), promise));
        return promise.Promise;
    }

    /// <summary>Forgets what an earlier call left unawaited (its work still runs to its end: a store.set is still written).</summary>
    public void Clear() => _pending.Clear();

    /// <summary>Waits up to <paramref name="remaining"/> for some work to finish; false when the time ran out first.</summary>
    public async Task<bool> WaitAsync(TimeSpan remaining)
    {
        try
        {
            await Task.WhenAny(_pending.Select(work => work.Task)).WaitAsync(remaining);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Settles every finished work's promise — its value, or an Error the script may catch — which runs the script on
    /// from its awaits. A store that failed is no error of the script's: it is thrown, for the call to answer
    /// edge_policy_store_failure_action.
    /// </summary>
    public void SettleFinished()
    {
        foreach (Work work in _pending.Where(work => work.Task.IsCompleted).ToList())
        {
            _pending.Remove(work);
            if (work.Task.IsCompletedSuccessfully)
            {
                work.Promise.Resolve(work.Result());
                continue;
            }
            Exception failure = work.Task.Exception?.InnerException ?? new OperationCanceledException();
            if (failure is PolicyStoreUnavailableException)
            {
                throw failure;
            }
            work.Promise.Reject(engine.Intrinsics.Error.Construct(failure.Message));
        }
    }
}
