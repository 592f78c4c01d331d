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
}
