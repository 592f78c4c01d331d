using Edge.Scheduler;

namespace Edge.Tests.Scheduler;

/// <summary>
/// qmgr(8)'s concurrency window for one destination: it starts at initial_destination_concurrency, grows
/// with deliveries that reached the destination up to the limit, shrinks with those that did not, and a
/// destination at a window of one that keeps failing is suspended; destination_rate_delay spaces deliveries.
/// </summary>
public class DestinationWindowTests
{
    private static readonly TimeSpan Backoff = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_window_grows_to_its_limit_shrinks_to_one_and_then_the_destination_is_suspended()
    {
        var destination = new Destination(new DestinationPolicy(InitialConcurrency: 2, ConcurrencyLimit: 3, RecipientLimit: 50,
            RateDelay: TimeSpan.Zero, FailedCohortLimit: 2));
        Assert.Equal(2, destination.Window);
        await destination.EnterAsync(CancellationToken.None);
        await destination.EnterAsync(CancellationToken.None);
        Task third = destination.EnterAsync(CancellationToken.None);
        Assert.False(third.IsCompleted, "a third delivery started with a window of two");

        destination.Leave(reached: true, "", Backoff);
        await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(3, destination.Window);
        destination.Leave(reached: true, "", Backoff);
        Assert.Equal(3, destination.Window);

        destination.Leave(reached: false, "connection refused", Backoff);
        Assert.Equal(2, destination.Window);
        await destination.EnterAsync(CancellationToken.None);
        destination.Leave(reached: false, "connection refused", Backoff);
        Assert.Equal(1, destination.Window);
        await destination.EnterAsync(CancellationToken.None);
        destination.Leave(reached: false, "connection refused", Backoff);
        Assert.Null(destination.Dead);
        await destination.EnterAsync(CancellationToken.None);
        destination.Leave(reached: false, "connection refused", Backoff);
        Assert.Equal("connection refused", destination.Dead?.Reason);
        Assert.True(destination.Dead?.Until > DateTimeOffset.UtcNow + TimeSpan.FromMinutes(4));

        await destination.EnterAsync(CancellationToken.None);
        destination.Leave(reached: true, "", Backoff);
        Assert.Null(destination.Dead);
        Assert.Equal(2, destination.Window);
    }

    [Fact]
    public async Task The_rate_delay_spaces_the_deliveries_to_a_destination()
    {
        var destination = new Destination(new DestinationPolicy(InitialConcurrency: 5, ConcurrencyLimit: 5, RecipientLimit: 50,
            RateDelay: TimeSpan.FromMilliseconds(300), FailedCohortLimit: 1));
        await destination.EnterAsync(CancellationToken.None);
        destination.Leave(reached: true, "", Backoff);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await destination.EnterAsync(CancellationToken.None);
        await destination.EnterAsync(CancellationToken.None);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(550), $"two more deliveries started after {clock.Elapsed}");
    }

    [Fact]
    public async Task With_feedback_of_one_over_concurrency_the_window_moves_by_one_per_window_of_deliveries()
    {
        var destination = new Destination(new DestinationPolicy(InitialConcurrency: 2, ConcurrencyLimit: 4, RecipientLimit: 50,
            RateDelay: TimeSpan.Zero, FailedCohortLimit: 1) { Positive = new Feedback(1, true), Negative = new Feedback(1, true) });
        async Task DeliverAsync(bool reached)
        {
            await destination.EnterAsync(CancellationToken.None);
            destination.Leave(reached, reached ? "" : "connection refused", Backoff);
        }
        int[] windows = new int[9];
        for (int i = 0; i < 5; i++)
        {
            await DeliverAsync(reached: true);
            windows[i] = destination.Window;
        }
        for (int i = 5; i < 9; i++)
        {
            await DeliverAsync(reached: false);
            windows[i] = destination.Window;
        }
        // Two good deliveries at a window of two, three at three; then four failures at four take one away.
        Assert.Equal([2, 3, 3, 3, 4, 4, 4, 4, 3], windows);
    }

    [Theory]
    [InlineData("1", 1.0, false)]
    [InlineData("1/concurrency", 1.0, true)]
    [InlineData("1/4", 0.25, false)]
    [InlineData("0.5", 0.5, false)]
    [InlineData("0", 0.0, false)]
    public void Feedback_is_a_number_a_fraction_or_one_over_concurrency(string text, double amount, bool perConcurrency)
    {
        Assert.True(Feedback.TryParse(text, out Feedback feedback));
        Assert.Equal(new Feedback(amount, perConcurrency), feedback);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1/0")]
    [InlineData("fast")]
    [InlineData("1/2/3")]
    public void Other_feedback_is_refused(string text) => Assert.False(Feedback.TryParse(text, out _));
}
