using Edge.Config;

namespace Edge.Scheduler;

/// <summary>A transport's per-destination limits from main.cf (qmgr(8), with the -o options of its master.cf line).</summary>
internal sealed record DestinationPolicy(int InitialConcurrency, int ConcurrencyLimit, int RecipientLimit,
    TimeSpan RateDelay, int FailedCohortLimit)
{
    public static DestinationPolicy Default { get; } = new(5, 20, 50, TimeSpan.Zero, 1);

    public static DestinationPolicy FromConfig(MainConfig config, string transport)
    {
        int Int(string suffix, string fallback) =>
            config.DefinitionOf(transport + suffix) is not null ? config.GetInt(transport + suffix) : config.GetInt(fallback);
        TimeSpan Time(string suffix, string fallback) =>
            config.DefinitionOf(transport + suffix) is not null ? config.GetTime(transport + suffix) : config.GetTime(fallback);
        return new DestinationPolicy(
            Int("_initial_destination_concurrency", "initial_destination_concurrency"),
            Int("_destination_concurrency_limit", "default_destination_concurrency_limit"),
            Int("_destination_recipient_limit", "default_destination_recipient_limit"),
            Time("_destination_rate_delay", "default_destination_rate_delay"),
            Int("_destination_concurrency_failed_cohort_limit", "default_destination_concurrency_failed_cohort_limit"));
    }
}
