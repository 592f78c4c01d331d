using System.Net.Sockets;
using Edge.Config;
using Edge.Restrictions.Policy.Store;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// edge_policy_store: what policy scripts keep outlives a restart (faster:, the default), is shared by the Edge
/// servers behind a load balancer (redis:), and a store that does not answer gives edge_policy_store_failure_action.
/// </summary>
public class PolicyStoreTests
{
    private static string Greylist => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "policies", "greylist.js"))
        .Replace("const DELAY_SECONDS = 300;", "const DELAY_SECONDS = 1;");

    private static async Task<EdgeInstance> StartAsync(string script, string mainCf = "", TempDirectory? reuse = null)
    {
        var directory = reuse ?? new TempDirectory();
        directory.Write("policy.js", script);
        return await EdgeInstance.StartAsync(
            $"smtpd_recipient_restrictions = check_policy_script {directory.File("policy.js")}\n{mainCf}", reuse: directory, disposeDirectory: reuse is null);
    }

    private static async Task<string> RcptAsync(int port)
    {
        await using var c = await SmtpConnection.OpenAsync(port);
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.example"));
        Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        return await c.CommandAsync("RCPT TO:<postmaster@localhost>");
    }

    private const string Waiting = "450 4.2.0 <postmaster@localhost>: Recipient address rejected: Greylisted: please try again later";
    private const string FirstSeen = "450 4.2.0 <postmaster@localhost>: Recipient address rejected: Greylisted: please try again in 1 seconds";

    [Fact]
    public async Task A_greylisted_triplet_passes_after_a_restart_with_the_default_store()
    {
        using var directory = new TempDirectory();
        EdgeInstance edge = await StartAsync(Greylist, reuse: directory);
        try
        {
            Assert.Equal(FirstSeen, await RcptAsync(edge.Port));
            await Task.Delay(1100);
            edge = await edge.RestartAsync();
            // With a store that forgot, the triplet would be seen for the first time again.
            Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge.Port));
            Assert.True(Directory.Exists(Path.Combine(edge.QueueDirectory, "policy-store", "checkpoints")));
        }
        finally
        {
            await edge.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_memory_store_forgets_at_a_restart()
    {
        using var directory = new TempDirectory();
        EdgeInstance edge = await StartAsync(Greylist, "edge_policy_store = memory", reuse: directory);
        try
        {
            Assert.Equal(FirstSeen, await RcptAsync(edge.Port));
            edge = await edge.RestartAsync();
            Assert.Equal(FirstSeen, await RcptAsync(edge.Port));
            Assert.False(Directory.Exists(Path.Combine(edge.QueueDirectory, "policy-store")));
        }
        finally
        {
            await edge.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_edges_behind_haproxy_greylist_a_sender_once_between_them_with_redis()
    {
        await using var redis = await RedisServer.StartAsync();
        string mainCf = $"edge_policy_store = {redis.Store}\nsmtpd_upstream_proxy_protocol = haproxy\nsmtpd_peername_lookup = no\n";
        await using var a = await StartAsync(Greylist, mainCf + "myhostname = a.edge.test");
        await using var b = await StartAsync(Greylist, mainCf + "myhostname = b.edge.test");
        await using var balancer = await Haproxy.StartAsync(a.Port, b.Port);
        var greetings = new List<string>();
        async Task<string> ThroughBalancerAsync()
        {
            await using var c = await SmtpConnection.OpenAsync(balancer.Port, readGreeting: false);
            greetings.Add((await c.ReadReplyAsync()).Split(' ')[1]);
            Assert.StartsWith("250", await c.CommandAsync("EHLO client.example"));
            Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
            return await c.CommandAsync("RCPT TO:<postmaster@localhost>");
        }
        Assert.Equal(FirstSeen, await ThroughBalancerAsync());
        // The other server knows the triplet: with a store of its own it would greylist it afresh. (Waiting, unless
        // the machine was so slow that the delay has passed already.)
        Assert.Contains(await ThroughBalancerAsync(), new[] { Waiting, "250 2.1.5 Ok" });
        await Task.Delay(1100);
        Assert.Equal("250 2.1.5 Ok", await ThroughBalancerAsync());
        Assert.Equal("250 2.1.5 Ok", await ThroughBalancerAsync());
        Assert.Equal(["a.edge.test", "b.edge.test", "a.edge.test", "b.edge.test"], greetings);
    }

    [Fact]
    public async Task A_store_that_does_not_answer_gives_the_failure_action_and_says_so_once()
    {
        using var config = new TempDirectory();
        using Socket down = FreePorts.Refusing();
        config.Write("policy.js", "async function rcpt(r) { return (await store.increment('seen/' + r.sender, 60)) > 1 ? 'REJECT again' : 'DUNNO'; }");
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) +
            $"\nedge_policy_store = redis:127.0.0.1:{down.Port()}\nedge_policy_time_limit = 200ms\n" +
            $"smtpd_recipient_restrictions = check_policy_script {config.File("policy.js")}\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("451 4.3.0 <postmaster@localhost>: Recipient address rejected: Temporary lookup failure", await RcptAsync(edge.Port));
        }
        string[] said = [];
        for (int i = 0; i < 50 && said.Length == 0; i++)
        {
            await Task.Delay(100);
            said = [.. edge.Log.Where(line => line.Contains("edge_policy_store_failure_action"))];
        }
        Assert.True(said.Length == 1, string.Join("\n", edge.Log));
        Assert.Contains($"check_policy_script {config.File("policy.js")}: edge_policy_store redis:127.0.0.1:", said[0]);
    }

    /// <summary>A store an earlier Edge wrote with objects (it has an object log) is dropped with a warning, not misread.</summary>
    [Fact]
    public async Task A_faster_store_in_the_earlier_object_layout_starts_empty_and_says_so()
    {
        using var config = new TempDirectory();
        string store = Path.Combine(config.Path, "store");
        Directory.CreateDirectory(Path.Combine(store, "checkpoints", "cpr-checkpoints", "00000000-0000-0000-0000-000000000000"));
        File.WriteAllBytes(Path.Combine(store, "hlog.obj.log.0"), new byte[4096]);
        File.WriteAllBytes(Path.Combine(store, "hlog.log.0"), Enumerable.Repeat((byte)0x5a, 8192).ToArray());
        File.WriteAllBytes(Path.Combine(store, "checkpoints", "cpr-checkpoints", "00000000-0000-0000-0000-000000000000", "info.dat"), new byte[64]);
        config.Write("policy.js", Greylist);
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) +
            $"\nedge_policy_store = faster:{store}\nsmtpd_recipient_restrictions = check_policy_script {config.File("policy.js")}\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Equal(FirstSeen, await RcptAsync(edge.Port));
        Assert.Contains(edge.Log, line => line.Contains($"edge_policy_store faster:{store}: written by an earlier Edge in a layout this one does not read"));
        Assert.False(File.Exists(Path.Combine(store, "hlog.obj.log.0")));
    }

    [Fact]
    public async Task Two_servers_cannot_use_one_faster_directory()
    {
        using var shared = new TempDirectory();
        string mainCf = $"edge_policy_store = faster:{shared.Path}";
        await using var first = await StartAsync(Greylist, mainCf);
        ConfigException e = await Assert.ThrowsAsync<ConfigException>(() => StartAsync(Greylist, mainCf));
        Assert.Contains("edge_policy_store", e.Message);
        Assert.Contains($"{shared.Path} is in use by another Edge process", e.Message);
    }

    [Theory]
    [InlineData("mysql:localhost")]
    [InlineData("faster:")]
    [InlineData("redis:")]
    public async Task A_store_edge_does_not_know_stops_start_up(string store)
    {
        ConfigException e = await Assert.ThrowsAsync<ConfigException>(() => StartAsync(Greylist, $"edge_policy_store = {store}"));
        Assert.Contains($"edge_policy_store: \"{store}\" is not memory, faster:DIRECTORY or redis:HOST:PORT", e.Message);
    }

    public static TheoryData<string> Stores => ["memory", "faster", "redis"];

    /// <summary>The store's own operations, on each kind: values, lifetimes, and counts that concurrent increments never lose.</summary>
    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Values_expire_and_concurrent_increments_all_count(string kind)
    {
        using var directory = new TempDirectory();
        await using RedisServer? redis = kind == "redis" ? await RedisServer.StartAsync() : null;
        IPolicyStore store = kind switch
        {
            "memory" => new MemoryPolicyStore(),
            "faster" => FasterPolicyStore.Open(directory.Path, out _)!,
            _ => RedisPolicyStore.Open($"127.0.0.1:{redis!.Port}", TimeSpan.FromSeconds(1), out _)!,
        };
        await using (store)
        {
            Assert.Null(await store.GetAsync("absent"));
            await store.SetAsync("short", "lived", 0.3);
            await store.SetAsync("long", "lived", 60);
            Assert.Equal("lived", await store.GetAsync("short"));
            await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                for (int i = 0; i < 500; i++)
                {
                    await store.IncrementAsync("counter", 60);
                }
            })));
            Assert.Equal(2001, await store.IncrementAsync("counter", 60));
            await Task.Delay(400);
            Assert.Null(await store.GetAsync("short"));
            Assert.Equal("lived", await store.GetAsync("long"));
            Assert.Equal(1, await store.IncrementAsync("short", 60));
        }
    }

    /// <summary>
    /// Far more than the store keeps in memory, compacted, reopened from its checkpoint and counted on while the garbage
    /// collector runs: values come back from disk, a counter read from disk counts on, and what expired is gone from
    /// the files. The store once kept objects in pages that FASTER fills by copying bytes, and a collection at that
    /// moment crashed the process.
    /// </summary>
    [Fact]
    public async Task A_faster_store_larger_than_memory_compacts_and_recovers_while_the_collector_runs()
    {
        using var directory = new TempDirectory();
        using var collecting = new CancellationTokenSource();
        Task collector = Task.Run(() =>
        {
            while (!collecting.IsCancellationRequested)
            {
                GC.Collect(2, GCCollectionMode.Forced, blocking: false);
                Thread.Sleep(1);
            }
        });
        string padding = new('x', 250);
        const int Keys = 300_000;
        for (int round = 0; round < 3; round++)
        {
            FasterPolicyStore store = FasterPolicyStore.Open(directory.Path, out string? error) ?? throw new InvalidOperationException(error);
            // FASTER deletes a compacted segment in the background; what is left of it when the store stopped goes at the next open.
            Assert.True(round == 0 || !File.Exists(Path.Combine(directory.Path, "hlog.log.0")), "the first log segment, all expired or copied on, was not compacted away");
            await using (store)
            {
                if (round == 0)
                {
                    Assert.Equal(1, await store.IncrementAsync("counter", 3600));
                    for (int i = 0; i < Keys; i++)
                    {
                        await store.SetAsync($"key{i}", $"{i}:{padding}", i % 100 == 0 ? 3600 : 1);
                    }
                    await Task.Delay(1100);
                }
                Assert.Equal($"0:{padding}", await store.GetAsync("key0"));
                Assert.Equal($"{Keys - 100}:{padding}", await store.GetAsync($"key{Keys - 100}"));
                Assert.Null(await store.GetAsync("key1"));
                Assert.Null(await store.GetAsync($"key{Keys}"));
                Assert.Equal(round + 2, await store.IncrementAsync("counter", 3600));
            }
        }
        await collecting.CancelAsync();
        await collector;
    }

    /// <summary>A call still running when Edge stops (past its grace) finds the store closed: the failure action, never freed memory.</summary>
    [Fact]
    public async Task A_closed_faster_store_refuses_calls()
    {
        using var directory = new TempDirectory();
        FasterPolicyStore store = FasterPolicyStore.Open(directory.Path, out string? error) ?? throw new InvalidOperationException(error);
        await store.SetAsync("key", "value", 60);
        await store.DisposeAsync();
        var e = await Assert.ThrowsAsync<PolicyStoreUnavailableException>(async () => await store.GetAsync("key"));
        Assert.Contains("the store is closed", e.Message);
        await store.DisposeAsync();
        FasterPolicyStore reopened = FasterPolicyStore.Open(directory.Path, out error) ?? throw new InvalidOperationException(error);
        await using (reopened)
        {
            Assert.Equal("value", await reopened.GetAsync("key"));
        }
    }
}
