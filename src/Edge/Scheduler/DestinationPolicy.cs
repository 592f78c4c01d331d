using System.Globalization;
using Edge.Config;

namespace Edge.Scheduler;

/// <summary>A transport's per-destination limits from main.cf (qmgr(8), with the -o options of its master.cf line).</summary>
internal sealed record DestinationPolicy(int InitialConcurrency, int ConcurrencyLimit, int RecipientLimit,
    TimeSpan RateDelay, int FailedCohortLimit)
{
    public static DestinationPolicy Default { get; } = new(5, 20, 50, TimeSpan.Zero, 1);

    /// <summary>How much a delivery that reached the destination grows its window (Postfix's default: 1).</summary>
    public Feedback Positive { get; init; } = Feedback.One;

    /// <summary>How much a delivery that could not reach the destination shrinks its window (default: 1).</summary>
    public Feedback Negative { get; init; } = Feedback.One;

    public static DestinationPolicy FromConfig(MainConfig config, string transport)
    {
        int Int(string suffix, string fallback) =>
            config.DefinitionOf(transport + suffix) is not null ? config.GetInt(transport + suffix) : config.GetInt(fallback);
        TimeSpan Time(string suffix, string fallback) =>
            config.DefinitionOf(transport + suffix) is not null ? config.GetTime(transport + suffix) : config.GetTime(fallback);
        Feedback FeedbackOf(string suffix, string fallback)
        {
            // The transport's own parameter when it is set (in main.cf or by -o), else the default it inherits,
            // so that an error names the line to fix.
            string name = config.IsSet(transport + suffix) ? transport + suffix : fallback;
            return Feedback.TryParse(config.Get(name), out Feedback feedback)
                ? feedback
                : throw config.Error(name, $"bad feedback \"{config.Get(name)}\": a number from 0, a fraction such as 1/4, or 1/concurrency");
        }
        return new DestinationPolicy(
            Int("_initial_destination_concurrency", "initial_destination_concurrency"),
            Int("_destination_concurrency_limit", "default_destination_concurrency_limit"),
            Int("_destination_recipient_limit", "default_destination_recipient_limit"),
            Time("_destination_rate_delay", "default_destination_rate_delay"),
            Int("_destination_concurrency_failed_cohort_limit", "default_destination_concurrency_failed_cohort_limit"))
        {
            Positive = FeedbackOf("_destination_concurrency_positive_feedback", "default_destination_concurrency_positive_feedback"),
            Negative = FeedbackOf("_destination_concurrency_negative_feedback", "default_destination_concurrency_negative_feedback"),
        };
    }
}

/// <summary>
/// qmgr(8)'s concurrency feedback: a fixed amount ("1", "0.5", "1/4", "0" for none), or "1/concurrency", which is one
/// over the window at the time (so a window of 8 grows by one after 8 good deliveries).
/// </summary>
internal readonly record struct Feedback(double Amount, bool PerConcurrency)
{
    public static Feedback One { get; } = new(1, false);

    public double At(int window) => PerConcurrency ? Amount / window : Amount;

    public static bool TryParse(string text, out Feedback feedback)
    {
        feedback = One;
        string[] parts = text.Trim().Split('/');
        if (!double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double amount)
            || amount < 0 || parts.Length > 2)
        {
            return false;
        }
        if (parts.Length == 1)
        {
            feedback = new Feedback(amount, false);
            return true;
        }
        if (parts[1].Trim().Equals("concurrency", StringComparison.OrdinalIgnoreCase))
        {
            feedback = new Feedback(amount, true);
            return true;
        }
        if (double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double divisor)
            && divisor > 0)
        {
            feedback = new Feedback(amount / divisor, false);
            return true;
        }
        return false;
    }
}
