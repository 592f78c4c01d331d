using System.Diagnostics;
using Jint;

namespace Edge.Restrictions.Policy;

/// <summary>A policy script stopped by one of its <see cref="ScriptLimits"/>: which one, and where the script was.</summary>
internal sealed class ScriptLimitException(string limit, string where) : Exception($"stopped by {limit}")
{
    public string Limit { get; } = limit;

    /// <summary>"line N" of the statement the script was running, or empty when the engine could not tell.</summary>
    public string Where { get; } = where;
}

/// <summary>
/// Jint checks this before every statement of a call: past the time, the bytes allocated or the statements
/// <see cref="ScriptLimits"/> allow, the call is interrupted (the thread is never lost to the script), with the
/// line it was at. Jint's own recursion limit and regular expression timeout cover the rest.
/// </summary>
internal sealed class ScriptLimitConstraint(ScriptLimits limits) : Constraint
{
    private long _deadline;
    private long _allocatedAtStart;

    /// <summary>What the call allocated on threads it ran on before it waited for a helper.</summary>
    private long _allocatedBefore;
    private int _statements;

    /// <summary>The engine whose call stack names the line; set once the engine exists.</summary>
    public Engine? Engine { get; set; }

    /// <summary>The time each run may take: a call's edge_policy_time_limit, or longer for the script's top level.</summary>
    public TimeSpan Time { get; set; } = limits.Time;

    public override bool IsAmortizable => false;

    public override void Check()
    {
        if (++_statements > limits.Statements)
        {
            Stop($"edge_policy_statement_limit ({limits.Statements} statements)");
        }
        if (Stopwatch.GetTimestamp() > _deadline)
        {
            Stop(Time == limits.Time ? $"edge_policy_time_limit ({(long)Time.TotalMilliseconds} ms)"
                : $"the time a script's top level may take ({(long)Time.TotalMilliseconds} ms)");
        }
        if (_allocatedBefore + GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart > limits.Memory)
        {
            Stop($"edge_policy_memory_limit ({limits.Memory} bytes)");
        }
    }

    public override void Reset()
    {
        _statements = 0;
        _deadline = Stopwatch.GetTimestamp() + (long)(Time.TotalSeconds * Stopwatch.Frequency);
        _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
        _allocatedBefore = 0;
    }

    /// <summary>The call waits for a helper (dns, store): what it allocated on this thread so far is carried over.</summary>
    public void Suspend() => _allocatedBefore += GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart;

    /// <summary>The call goes on, perhaps on another thread: its allocations are counted from here, on top of the carried ones.</summary>
    public void Resume() => _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();

    private void Stop(string limit) => throw new ScriptLimitException(limit, Line(Engine?.Advanced.StackTrace));

    /// <summary>"line 3" from Jint's stack trace ("   at g (/path/policy.js:3:15)"), for the innermost frame.</summary>
    internal static string Line(string? stackTrace)
    {
        string first = stackTrace?.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.TrimEnd(')', ' ', '\r') ?? "";
        string[] parts = first.Split(':');
        return parts.Length >= 3 && int.TryParse(parts[^2], out int line) ? $"line {line}" : "";
    }
}
