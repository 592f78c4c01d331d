using Edge.Logging;

namespace Edge.Restrictions.Policy;

/// <summary>
/// Runs policy script calls, shared by every script of every configuration: at most one call per core (at least
/// two) runs at a time, on the thread that asked, with an engine taken from the script's own pool (engines are not
/// thread-safe, and a reload forgets them with the script). A call is interrupted at its limits, so a script holds a
/// thread for at most edge_policy_time_limit and no thread is ever lost to it; the engine of a call that failed is
/// thrown away (with whatever the script kept in its globals: state that must last belongs in <c>store</c>), so a
/// script cannot hoard memory call after call. A request that finds every slot busy waits for one without holding a
/// thread, for the time limit (at least a second); past it, it answers the default action, so a flood of slow calls
/// defers mail instead of piling up behind them.
/// </summary>
internal static class PolicyRunner
{
    /// <summary>How many calls run at once.</summary>
    public static int Slots { get; } = Math.Max(2, Environment.ProcessorCount);

    private static readonly SemaphoreSlim s_slots = new(Slots, Slots);

    /// <summary>The answer of most calls, as a task made once.</summary>
    private static readonly Task<string?> s_dunno = Task.FromResult<string?>("DUNNO");

    /// <summary>The script's <paramref name="function"/> (null: the request's stage function, else policy) for <paramref name="request"/>; the default action when it failed or found no slot (logged).</summary>
    public static Task<string?> RunAsync(PolicyScript script, PolicyRequest request, string? function, CancellationToken cancellationToken)
    {
        if (!s_slots.Wait(0))
        {
            return WaitAndRunAsync(script, request, function, cancellationToken);
        }
        string answer = RunInSlot(script, request, function);
        return answer == "DUNNO" ? s_dunno : Task.FromResult<string?>(answer);
    }

    private static async Task<string?> WaitAndRunAsync(PolicyScript script, PolicyRequest request, string? function, CancellationToken cancellationToken)
    {
        if (!await s_slots.WaitAsync(script.Limits.Time > TimeSpan.FromSeconds(1) ? script.Limits.Time : TimeSpan.FromSeconds(1), cancellationToken))
        {
            MailLog.Warning($"check_policy_script {script.Path}: every policy slot stayed busy past edge_policy_time_limit " +
                $"(at least 1s); default action \"{script.Limits.DefaultAction}\"");
            return script.Limits.DefaultAction;
        }
        return RunInSlot(script, request, function);
    }

    /// <summary>One call in a slot already taken; the slot is given back.</summary>
    private static string RunInSlot(PolicyScript script, PolicyRequest request, string? function)
    {
        ScriptInstance? instance = null;
        try
        {
            instance = script.Engines.TryPop(out ScriptInstance? pooled) ? pooled : new ScriptInstance(script, log: null);
            string answer = instance.Call(function, request);
            script.Engines.Push(instance);
            return answer;
        }
        catch (Exception e)
        {
            instance?.Dispose();
            MailLog.Warning($"check_policy_script {script.Path}{ScriptFailure.Describe(e)}; default action \"{script.Limits.DefaultAction}\"");
            return script.Limits.DefaultAction;
        }
        finally
        {
            s_slots.Release();
        }
    }
}
