using Edge.Scheduler;

namespace Edge.Tests.Scheduler;

/// <summary>qmgr(8)'s backoff: the wait doubles after each failed attempt, from minimal_backoff_time up to maximal_backoff_time.</summary>
public class QueueScheduleTests
{
    [Fact]
    public void The_wait_doubles_from_minimal_to_maximal_backoff_time()
    {
        var schedule = new QueueSchedule(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(5),
            TimeSpan.FromDays(5), TimeSpan.FromDays(5), TimeSpan.Zero, 20000);
        Assert.Equal([5.0, 10, 20, 30, 30], Enumerable.Range(1, 5).Select(n => schedule.Backoff(n).TotalMinutes));
    }

    [Fact]
    public void A_maximal_backoff_below_the_minimal_one_leaves_the_minimal_one()
    {
        var schedule = new QueueSchedule(TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5),
            TimeSpan.FromDays(5), TimeSpan.FromDays(5), TimeSpan.Zero, 20000);
        Assert.Equal(TimeSpan.FromMinutes(5), schedule.Backoff(3));
    }
}
