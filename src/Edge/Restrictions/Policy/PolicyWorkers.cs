using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Edge.Logging;
using Jurassic;
using Jurassic.Library;

namespace Edge.Restrictions.Policy;

/// <summary>
/// The threads that run policy scripts, shared by every script of every configuration. Each thread keeps its
/// own compiled engine per script (engines are not thread-safe), forgotten with the script after a reload.
/// Jurassic cannot interrupt a script, so one that loops forever keeps its thread: the request waiting on it
/// is deferred at the time limit, and a new thread takes the stuck one's place, up to a bound, so that a broken
/// script costs CPU but never leaves sessions without answers. A replaced thread that does finish its script
/// ends, and the pool is back to its size.
/// </summary>
internal static class PolicyWorkers
{
    /// <summary>Threads given up on a script still running; past this many, none is replaced.</summary>
    private const int MaxAbandoned = 8;

    private sealed record Work(PolicyScript Script, PolicyRequest Request, TaskCompletionSource<string?> Answer);

    private static readonly BlockingCollection<Work> s_queue = [];
    /// <summary>The requests being answered, each with whether its thread has been replaced.</summary>
    private static readonly ConcurrentDictionary<Task<string?>, bool> s_running = [];
    private static int s_started;
    private static int s_abandoned;

    [ThreadStatic]
    private static ConditionalWeakTable<PolicyScript, Compiled>? t_engines;

    private sealed record Compiled(ScriptEngine Engine, FunctionInstance Policy);

    public static Task<string?> Run(PolicyScript script, PolicyRequest request)
    {
        if (Volatile.Read(ref s_started) == 0 && Interlocked.Exchange(ref s_started, 1) == 0)
        {
            for (int i = 0; i < Math.Max(2, Environment.ProcessorCount); i++)
            {
                StartThread();
            }
        }
        var work = new Work(script, request, new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously));
        s_queue.Add(work);
        return work.Answer.Task;
    }

    /// <summary>A request's script ran past its time limit: its thread is taken as lost and replaced, within bounds.</summary>
    public static void Overrun(Task<string?> answer)
    {
        if (!s_running.ContainsKey(answer))
        {
            // Still waiting for a thread (or just answered): no thread is lost to it.
            return;
        }
        if (Volatile.Read(ref s_abandoned) >= MaxAbandoned)
        {
            MailLog.Warning($"policy scripts: {MaxAbandoned} threads are stuck in scripts that do not return; fix the script and reload");
        }
        else if (s_running.TryUpdate(answer, true, false))
        {
            Interlocked.Increment(ref s_abandoned);
            StartThread();
        }
    }

    private static void StartThread() =>
        new Thread(Serve) { IsBackground = true, Name = "edge policy" }.Start();

    private static void Serve()
    {
        t_engines = [];
        foreach (Work work in s_queue.GetConsumingEnumerable())
        {
            s_running[work.Answer.Task] = false;
            string? answer = Answer(work);
            s_running.TryRemove(work.Answer.Task, out bool replaced);
            work.Answer.TrySetResult(answer);
            if (replaced)
            {
                Interlocked.Decrement(ref s_abandoned);
                return;
            }
        }
    }

    private static string? Answer(Work work)
    {
        try
        {
            Compiled compiled = t_engines!.GetValue(work.Script, static script =>
            {
                ScriptEngine engine = script.CreateEngine(out FunctionInstance policy);
                return new Compiled(engine, policy);
            });
            object result = compiled.Policy.Call(Undefined.Value, work.Request.ToObject(compiled.Engine));
            return result is Undefined or Null ? "DUNNO" : TypeConverter.ToString(result);
        }
        catch (JavaScriptException e)
        {
            MailLog.Warning($"check_policy_script {work.Script.Path}, line {e.LineNumber}: {e.Message}; the request is deferred");
        }
        catch (Exception e)
        {
            // The worker's thread must outlive any script: whatever a script makes the engine throw defers the request.
            MailLog.Warning($"check_policy_script {work.Script.Path}: {e.Message}; the request is deferred");
        }
        return null;
    }
}
