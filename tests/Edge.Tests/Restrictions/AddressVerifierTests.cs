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
        TimeSpan.FromDays(3), TimeSpan.FromHours(3), negativeCache, "double-bounce", TimeSpan.Zero, Persistent: false);

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

    /// <summary>One query that waits for its probe (two polls), as a first RCPT TO does with Postfix's default three.</summary>
    private static Task<ProbeOutcome?> WaitingAsync(AddressVerifier verifier, string address) =>
        verifier.VerifyAsync(address, pollCount: 2, TimeSpan.FromSeconds(30), default);

    /// <summary>One query that does not wait (address_verify_poll_count = 1), after any probe out has answered.</summary>
    private static async Task<ProbeOutcome?> AtOnceAsync(AddressVerifier verifier, string address)
    {
        ProbeOutcome? outcome = await verifier.VerifyAsync(address, pollCount: 1, TimeSpan.FromSeconds(1), default);
        await verifier.IdleAsync();
        return outcome;
    }

    [Fact]
    public async Task A_good_answer_is_refreshed_after_seven_days_and_a_failed_refresh_does_not_overwrite_it()
    {
        var clock = new Clock();
        var sent = new List<string>();
        AddressVerifier verifier = Verifier(clock, new([new(VerifyStatus.Ok, "250 2.1.5 Ok"), new(VerifyStatus.Bounce, "550 gone")]), sent);

        Assert.Equal(new ProbeOutcome(VerifyStatus.Ok, "250 2.1.5 Ok"), await WaitingAsync(verifier, "a@x.example"));
        clock.Now += TimeSpan.FromDays(6);
        Assert.Equal(VerifyStatus.Ok, (await AtOnceAsync(verifier, "a@x.example"))!.Status);
        Assert.Single(sent);

        clock.Now += TimeSpan.FromDays(2);
        Assert.Equal(VerifyStatus.Ok, (await AtOnceAsync(verifier, "a@x.example"))!.Status);
        Assert.Equal(2, sent.Count);
        Assert.Equal(new ProbeOutcome(VerifyStatus.Ok, "250 2.1.5 Ok"), await AtOnceAsync(verifier, "a@x.example"));
        Assert.Equal(["double-bounce a@x.example", "double-bounce a@x.example"], sent);
    }

    [Fact]
    public async Task An_expired_answer_is_unknown_again_and_a_bounce_is_refreshed_after_three_hours()
    {
        var clock = new Clock();
        var sent = new List<string>();
        AddressVerifier verifier = Verifier(clock, new([new(VerifyStatus.Bounce, "550 no"), new(VerifyStatus.Bounce, "550 still no"),
            new(VerifyStatus.Ok, "250 back")]), sent);

        Assert.Equal(VerifyStatus.Todo, (await AtOnceAsync(verifier, "b@x.example"))!.Status);
        Assert.Equal(new ProbeOutcome(VerifyStatus.Bounce, "550 no"), await AtOnceAsync(verifier, "b@x.example"));
        clock.Now += TimeSpan.FromHours(2);
        Assert.Equal(VerifyStatus.Bounce, (await AtOnceAsync(verifier, "b@x.example"))!.Status);
        Assert.Single(sent);

        // Past the negative refresh time the old answer still stands while the probe is out; its answer replaces it.
        clock.Now += TimeSpan.FromHours(2);
        Assert.Equal(new ProbeOutcome(VerifyStatus.Bounce, "550 no"), await AtOnceAsync(verifier, "b@x.example"));
        Assert.Equal(new ProbeOutcome(VerifyStatus.Bounce, "550 still no"), await AtOnceAsync(verifier, "b@x.example"));

        // Past the negative expiry it is unknown: "in progress" and a new probe.
        clock.Now += TimeSpan.FromDays(4);
        Assert.Equal(new ProbeOutcome(VerifyStatus.Todo, "Address verification in progress"), await AtOnceAsync(verifier, "b@x.example"));
        Assert.Equal(3, sent.Count);
        Assert.Equal(new ProbeOutcome(VerifyStatus.Ok, "250 back"), await AtOnceAsync(verifier, "b@x.example"));
    }

    [Fact]
    public async Task Without_negative_caching_a_bounce_is_probed_again_at_each_query()
    {
        var clock = new Clock();
        var sent = new List<string>();
        AddressVerifier verifier = Verifier(clock, new([new(VerifyStatus.Bounce, "550 no"), new(VerifyStatus.Bounce, "550 no")]), sent,
            Settings(negativeCache: false));

        Assert.Equal(VerifyStatus.Todo, (await AtOnceAsync(verifier, "c@x.example"))!.Status);
        Assert.Equal(VerifyStatus.Todo, (await AtOnceAsync(verifier, "c@x.example"))!.Status);
        Assert.Equal(2, sent.Count);
    }

    /// <summary>
    /// Many sessions asking at once for an address nobody knows: one probe, and every one of them gets its answer (the
    /// probe's answer is never overwritten by the "in progress" record).
    /// </summary>
    [Fact]
    public async Task Concurrent_queries_send_one_probe_and_all_get_its_answer()
    {
        var sent = new List<string>();
        AddressVerifier verifier = Verifier(new Clock(), new([new(VerifyStatus.Bounce, "550 no")]), sent);
        ProbeOutcome?[] answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() => WaitingAsync(verifier, "e@x.example"))));
        Assert.Single(sent);
        Assert.All(answers, a => Assert.Equal(new ProbeOutcome(VerifyStatus.Bounce, "550 no"), a));
    }

    [Fact]
    public async Task A_store_that_cannot_be_read_answers_status_unavailable_and_sends_no_probe()
    {
        var sent = new List<string>();
        AddressVerifier verifier = Verifier(new Clock(), new(), sent, store: new BrokenStore());
        Assert.Equal(new ProbeOutcome(VerifyStatus.Defer, "Address verification status unavailable"), await AtOnceAsync(verifier, "d@x.example"));
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
}
