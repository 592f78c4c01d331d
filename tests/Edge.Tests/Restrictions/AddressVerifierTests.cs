using Edge.Restrictions.Policy.Store;
using Edge.Restrictions.Verify;

namespace Edge.Tests.Restrictions;

/// <summary>
/// verify(8)'s cache rules on a clock the test moves: when an answer is refreshed, when it expires, that a failed
/// refresh does not overwrite a good answer, negative caching, a store that cannot be read, and the probe's sender.
/// </summary>
public class AddressVerifierTests
{
    private sealed class Clock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private sealed class BrokenStore : IPolicyStore
    {
        public ValueTask<string?> GetAsync(string key) => throw new PolicyStoreUnavailableException("redis down");
        public ValueTask SetAsync(string key, string value, double seconds) => throw new PolicyStoreUnavailableException("redis down");
        public ValueTask<long> IncrementAsync(string key, double seconds) => throw new PolicyStoreUnavailableException("redis down");
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static VerifySettings Settings(bool negativeCache = true) => new(TimeSpan.FromDays(31), TimeSpan.FromDays(7),
        TimeSpan.FromDays(3), TimeSpan.FromHours(3), negativeCache, PollCount: 2, PollDelay: TimeSpan.FromSeconds(5), "double-bounce",
        TimeSpan.Zero, Persistent: false);

    /// <summary>A verifier whose probes answer <paramref name="answers"/> in turn and are counted in <paramref name="sent"/>.</summary>
    private static AddressVerifier Verifier(Clock clock, Queue<ProbeOutcome> answers, List<string> sent, VerifySettings? settings = null,
        IPolicyStore? store = null)
    {
        var verifier = new AddressVerifier(clock)
        {
            Probe = (sender, address, _) =>
            {
                lock (sent)
                {
                    sent.Add($"{sender} {address}");
                }
                return Task.FromResult(answers.Dequeue());
            },
        };
        store ??= new MemoryPolicyStore();
        verifier.Configure(settings ?? Settings(), () => store);
        return verifier;
    }

    [Fact]
    public async Task A_good_answer_is_refreshed_after_seven_days_and_a_failed_refresh_does_not_overwrite_it()
    {
        var clock = new Clock();
        var sent = new List<string>();
        AddressVerifier verifier = Verifier(clock, new([new(VerifyStatus.Ok, "250 2.1.5 Ok"), new(VerifyStatus.Bounce, "550 gone")]), sent);

        Assert.Equal(new ProbeOutcome(VerifyStatus.Ok, "250 2.1.5 Ok"), await verifier.VerifyAsync("a@x.example", default));
        clock.Now += TimeSpan.FromDays(6);
        Assert.Equal(VerifyStatus.Ok, (await verifier.VerifyAsync("a@x.example", default))!.Status);
        Assert.Single(sent);

        clock.Now += TimeSpan.FromDays(2);
        Assert.Equal(VerifyStatus.Ok, (await verifier.VerifyAsync("a@x.example", default))!.Status);
        await WaitForAsync(() => sent.Count == 2);
        await Task.Delay(100);
        Assert.Equal(new ProbeOutcome(VerifyStatus.Ok, "250 2.1.5 Ok"), await verifier.VerifyAsync("a@x.example", default));
        Assert.Equal(["double-bounce a@x.example", "double-bounce a@x.example"], sent);
    }

    [Fact]
    public async Task An_expired_answer_is_unknown_again_and_a_bounce_is_refreshed_after_three_hours()
    {
        var clock = new Clock();
        var sent = new List<string>();
        AddressVerifier verifier = Verifier(clock, new([new(VerifyStatus.Bounce, "550 no"), new(VerifyStatus.Bounce, "550 still no"),
            new(VerifyStatus.Ok, "250 back")]), sent, Settings() with { PollCount = 1 });

        Assert.Equal(VerifyStatus.Todo, (await verifier.VerifyAsync("b@x.example", default))!.Status);
        await WaitForAsync(() => sent.Count == 1);
        await Task.Delay(100);
        Assert.Equal(new ProbeOutcome(VerifyStatus.Bounce, "550 no"), await verifier.VerifyAsync("b@x.example", default));
        clock.Now += TimeSpan.FromHours(2);
        Assert.Equal(VerifyStatus.Bounce, (await verifier.VerifyAsync("b@x.example", default))!.Status);
        Assert.Single(sent);

        // Past the negative refresh time the old answer still stands while the probe is out; its answer replaces it.
        clock.Now += TimeSpan.FromHours(2);
        Assert.Equal(new ProbeOutcome(VerifyStatus.Bounce, "550 no"), await verifier.VerifyAsync("b@x.example", default));
        await WaitForAsync(() => sent.Count == 2);
        await Task.Delay(100);
        Assert.Equal(new ProbeOutcome(VerifyStatus.Bounce, "550 still no"), await verifier.VerifyAsync("b@x.example", default));

        // Past the negative expiry it is unknown: "in progress" and a new probe.
        clock.Now += TimeSpan.FromDays(4);
        Assert.Equal(new ProbeOutcome(VerifyStatus.Todo, "Address verification in progress"), await verifier.VerifyAsync("b@x.example", default));
        await WaitForAsync(() => sent.Count == 3);
    }

    [Fact]
    public async Task Without_negative_caching_a_bounce_is_probed_again_at_each_query()
    {
        var clock = new Clock();
        var sent = new List<string>();
        AddressVerifier verifier = Verifier(clock, new([new(VerifyStatus.Bounce, "550 no"), new(VerifyStatus.Bounce, "550 no")]), sent,
            Settings(negativeCache: false) with { PollCount = 1 });

        Assert.Equal(VerifyStatus.Todo, (await verifier.VerifyAsync("c@x.example", default))!.Status);
        await WaitForAsync(() => sent.Count == 1);
        await Task.Delay(100);
        Assert.Equal(VerifyStatus.Todo, (await verifier.VerifyAsync("c@x.example", default))!.Status);
        await WaitForAsync(() => sent.Count == 2);
    }

    [Fact]
    public async Task A_store_that_cannot_be_read_is_a_service_failure_and_sends_no_probe()
    {
        var sent = new List<string>();
        AddressVerifier verifier = Verifier(new Clock(), new(), sent, store: new BrokenStore());
        Assert.Null(await verifier.VerifyAsync("d@x.example", default));
        Assert.Empty(sent);
    }

    [Fact]
    public void The_probe_sender_carries_the_time_period_in_base_31_when_it_has_a_lifetime()
    {
        VerifySettings settings = Settings() with { Sender = "probe@mx.example", SenderTtl = TimeSpan.FromSeconds(1000) };
        // 1,796,472,000 seconds / 1000 = 1,796,472 = 1 * 31^4 + 29 * 31^3 + 9 * 31^2 + 11 * 31 + 22: in safe_ultostr's digits
        // (no vowels) 1, Y, 9, C, Q.
        Assert.Equal("probe1Y9CQ@mx.example", settings.SenderAt(new Clock().Now));
        Assert.Equal("probe@mx.example", (settings with { SenderTtl = TimeSpan.Zero }).SenderAt(new Clock().Now));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition());
    }
}
