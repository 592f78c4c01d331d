using Edge.Logging;
using Edge.Restrictions.Policy.Store;

namespace Edge.Restrictions.Policy;

/// <summary>
/// Runs policy script calls, shared by every script of every configuration: at most one call per core (at least
/// two) runs at a time, on the thread that asked, with an engine taken from the script's own pool (engines are not
/// thread-safe, and a reload forgets them with the script). A call is interrupted at its limits, so a script holds a
/// thread for at most edge_policy_time_limit and no thread is ever lost to it; the engine of a call that failed is
/// thrown away (with whatever the script kept in its globals: state that must last belongs in <c>store</c>), so a
/// script cannot hoard memory call after call. A request that finds every slot busy waits for one without holding a
/// thread, for the time limit (at least a second); past it, it answers the default action, so a flood of slow calls
/// defers mail instead of piling up behind them. A call that awaits a helper gives its slot back while it waits. A call
/// whose store does not answer gets
/// edge_policy_store_failure_action, said in the log once a minute however many calls meet it.
/// </summary>
internal static class PolicyRunner
{
    /// <summary>How many calls run at once.</summary>
    public static int Slots { get; } = Math.Max(2, Environment.ProcessorCount);

    private static readonly SemaphoreSlim s_slots = new(Slots, Slots);

    /// <summary>When the last store failure was logged (Environment.TickCount64).</summary>
    private static long s_storeFailureLogged = -60_000;

    /// <summary>The answer of most calls, as a task made once.</summary>
    private static readonly Task<string?> s_dunno = Task.FromResult<string?>("DUNNO");

    /// <summary>The script's <paramref name="function"/> (null: the request's stage function, else policy) for <paramref name="request"/>; the default action when it failed or found no slot (logged).</summary>
    public static Task<string?> RunAsync(PolicyScript script, PolicyRequest request, string? function, CancellationToken cancellationToken) =>
        s_slots.Wait(0) ? RunInSlot(script, request, function) : WaitAndRunAsync(script, request, function, cancellationToken);

    private static async Task<string?> WaitAndRunAsync(PolicyScript script, PolicyRequest request, string? function, CancellationToken cancellationToken)
    {
        if (!await s_slots.WaitAsync(script.Limits.Time > TimeSpan.FromSeconds(1) ? script.Limits.Time : TimeSpan.FromSeconds(1), cancellationToken))
        {
            MailLog.Warning($"check_policy_script {script.Path}: every policy slot stayed busy past edge_policy_time_limit " +
                $"(at least 1s); default action \"{script.Limits.DefaultAction}\"");
            return script.Limits.DefaultAction;
        }
        return await RunInSlot(script, request, function);
    }

    /// <summary>
    /// One call in a slot already taken. The slot is given back when the script returns or first awaits a helper (dns,
    /// store): a call waiting for the network holds no slot, and runs on from its await outside them, still within its limits.
    /// </summary>
    private static Task<string?> RunInSlot(PolicyScript script, PolicyRequest request, string? function)
    {
        ScriptInstance? instance = null;
        try
        {
            instance = script.Engines.TryPop(out ScriptInstance? pooled) ? pooled : new ScriptInstance(script, log: null);
            ValueTask<string> call = instance.CallAsync(function, request);
            if (!call.IsCompleted)
            {
                return FinishAsync(script, instance, call.AsTask());
            }
            string answer = call.Result;
            script.Engines.Push(instance);
            return answer == "DUNNO" ? s_dunno : Task.FromResult<string?>(answer);
        }
        catch (Exception e)
        {
            instance?.Dispose();
            return Task.FromResult<string?>(Failed(script, e));
        }
        finally
        {
            s_slots.Release();
        }
    }

    private static async Task<string?> FinishAsync(PolicyScript script, ScriptInstance instance, Task<string> call)
    {
        try
        {
            string answer = await call;
            script.Engines.Push(instance);
            return answer;
        }
        catch (Exception e)
        {
            instance.Dispose();
            return Failed(script, e);
        }
    }

    /// <summary>What a call that failed answers, logged: edge_policy_store_failure_action when its store did not answer (said once a minute), else the default action.</summary>
    private static string Failed(PolicyScript script, Exception e)
    {
        if (e is PolicyStoreUnavailableException)
        {
            MailLog.WarningOncePerMinute(ref s_storeFailureLogged, () => $"check_policy_script {script.Path}: edge_policy_store {e.Message}; " +
                $"edge_policy_store_failure_action \"{script.Limits.StoreFailureAction}\" (said once a minute)");
            return script.Limits.StoreFailureAction;
        }
        MailLog.Warning($"check_policy_script {script.Path}{ScriptFailure.Describe(e)}; default action \"{script.Limits.DefaultAction}\"");
        return script.Limits.DefaultAction;
    }
}
