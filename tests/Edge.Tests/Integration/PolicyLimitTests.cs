using System.Diagnostics;
using Edge.Config;
using Edge.Restrictions.Policy;
using Edge.Restrictions.Policy.Store;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// The hard limits of policy scripts under abuse: a thousand calls to a script that loops and a thousand to one that
/// allocates without end each answer edge_policy_default_action within the time limit, no policy thread is added or
/// lost, memory stays where it was, and a well-behaved script keeps answering meanwhile.
/// </summary>
public class PolicyLimitTests
{
    /// <summary>
    /// A script with a memory limit of 1 MiB and the time limit given. Its top level runs within that limit too: on a
    /// two-core machine busy with other tests, 10 ms can pass before it is scheduled at all, so a load the limit stopped
    /// is tried again (what is under test is the calls, below).
    /// </summary>
    private static PolicyScript Load(TempDirectory directory, string name, string source, string timeLimit = "10ms")
    {
        directory.Write(name, source);
        directory.Write("main.cf", $"edge_policy_time_limit = {timeLimit}\nedge_policy_memory_limit = 1048576\nedge_policy_default_action = DEFER_IF_PERMIT stopped\n");
        string? error = null;
        for (int attempt = 0; attempt < 5; attempt++)
        {
            if (PolicyScript.Load(directory.File(name), ScriptLimits.From(MainConfig.Load(directory.Path)), new MemoryPolicyStore(),
                    Edge.Dns.DnsResolver.FromResolvConf(), DefaultTableSettings.Value, out error) is { } script)
            {
                return script;
            }
            if (error?.Contains("stopped by edge_policy_time_limit", StringComparison.Ordinal) != true)
            {
                break;
            }
        }
        throw new InvalidOperationException(error);
    }

    private static PolicyRequest Request(string recipient) =>
        PolicyRequest.From([new("recipient", recipient), new("protocol_state", "RCPT")]);

    [Fact]
    public async Task A_thousand_endless_loops_and_allocations_cost_neither_threads_nor_memory_nor_other_answers()
    {
        using var directory = new TempDirectory();
        // The well-behaved script has a time limit a busy two-core machine cannot make it miss; the others' is 10 ms.
        // It is loaded first: the first engine compiles the interpreter's code, which on a busy machine took longer than
        // the 10 ms a script's top level gets when it is loaded (CI saw it once).
        PolicyScript good = Load(directory, "good.js", "function policy(r) { return r.recipient.startsWith('no') ? 'REJECT no' : 'DUNNO'; }", "5s");
        PolicyScript looping = Load(directory, "loop.js", "function policy(r) { for (;;) {} }");
        PolicyScript allocating = Load(directory, "alloc.js", "const kept = []; function policy(r) { for (;;) { kept.push('x'.repeat(1000)); } }");
        // Warm up: the engines exist and the engine's code is compiled before anything is counted.
        Assert.Equal("DUNNO", await good.AskAsync(Request("yes@example.com"), CancellationToken.None));
        Assert.Equal("DEFER_IF_PERMIT stopped", await looping.AskAsync(Request("a@example.com"), CancellationToken.None));
        Assert.Equal("DEFER_IF_PERMIT stopped", await allocating.AskAsync(Request("a@example.com"), CancellationToken.None));
        int threads = Process.GetCurrentProcess().Threads.Count;
        long memory = GC.GetTotalMemory(forceFullCollection: true);

        using var stop = new CancellationTokenSource();
        var goodAnswers = 0;
        TimeSpan slowestGood = TimeSpan.Zero;
        Task wellBehaved = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var clock = Stopwatch.StartNew();
                Assert.Equal("REJECT no", await good.AskAsync(Request("no@example.com"), CancellationToken.None));
                slowestGood = clock.Elapsed > slowestGood ? clock.Elapsed : slowestGood;
                goodAnswers++;
                await Task.Delay(5);
            }
        });
        TimeSpan slowest = TimeSpan.Zero;
        foreach (PolicyScript bad in new[] { looping, allocating })
        {
            for (int i = 0; i < 1000; i++)
            {
                var clock = Stopwatch.StartNew();
                Assert.Equal("DEFER_IF_PERMIT stopped", await bad.AskAsync(Request($"user{i}@example.com"), CancellationToken.None));
                slowest = clock.Elapsed > slowest ? clock.Elapsed : slowest;
            }
        }
        await stop.CancelAsync();
        await wellBehaved;

        // Each call is stopped at its 10 ms limit; the bound allows for a two-core machine running other tests (and the
        // collections of what the allocating script made), not for a call that is never stopped.
        Assert.InRange(slowest, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.InRange(slowestGood, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.True(goodAnswers > 100, $"the well-behaved script answered {goodAnswers} times");
        // Other test classes run meanwhile and may add pool threads; a lost thread per call would add a thousand.
        Assert.InRange(Process.GetCurrentProcess().Threads.Count, 0, threads + 32);
        // What the allocating script kept in its global array (about 1 MB a call, a gigabyte in all) goes with its engine.
        Assert.InRange(GC.GetTotalMemory(forceFullCollection: true), 0, memory + 256 * 1024 * 1024);
    }
}
