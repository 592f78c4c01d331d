using System.Collections.Frozen;

namespace Edge.Config;

/// <summary>
/// Every main.cf parameter Edge knows, with its type and the default that Postfix 3.9's <c>postconf -d</c>
/// prints. Where Postfix's default depends on compatibility_level or on the <c>stress</c> mode, Edge uses
/// the current-level, non-stress value (Edge has no backwards-compatibility mode). Edge's own departures:
/// mail_name = Edge and queue_directory = ./var.
/// </summary>
public static partial class ParameterRegistry
{
    /// <summary>The built-in parameters by name.</summary>
    public static FrozenDictionary<string, ParameterDefinition> All { get; } =
        SystemParameters()
            .Concat(AddressingParameters())
            .Concat(QueueParameters())
            .Concat(SmtpdParameters())
            .Concat(SmtpClientParameters())
            .Concat(PostscreenParameters())
            .Concat(EdgeParameters())
            .ToFrozenDictionary(d => d.Name, StringComparer.Ordinal);

    /// <summary>The known parameter a misspelt name most likely meant: at most two edits away, or null.</summary>
    internal static string? Closest(string name) => All.Keys
        .Select(known => (Name: known, Distance: EditDistance(name, known)))
        .Where(c => c.Distance <= 2)
        .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
        .Select(c => c.Name).FirstOrDefault();

    // Levenshtein distance: insertions, deletions and substitutions.
    static int EditDistance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2)
            return int.MaxValue;
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    // Per-transport parameters, as Postfix's postconf_service.c defines them: a master.cf service whose
    // command is a delivery agent gets "<service><suffix>" parameters that default to "$<global>".
    static readonly (string Suffix, string Global)[] DeliveryServiceParameters =
    [
        ("_recipient_limit", "default_recipient_limit"),
        ("_extra_recipient_limit", "default_extra_recipient_limit"),
        ("_recipient_refill_limit", "default_recipient_refill_limit"),
        ("_recipient_refill_delay", "default_recipient_refill_delay"),
        ("_delivery_slot_cost", "default_delivery_slot_cost"),
        ("_delivery_slot_loan", "default_delivery_slot_loan"),
        ("_delivery_slot_discount", "default_delivery_slot_discount"),
        ("_minimum_delivery_slots", "default_minimum_delivery_slots"),
        ("_initial_destination_concurrency", "initial_destination_concurrency"),
        ("_destination_concurrency_limit", "default_destination_concurrency_limit"),
        ("_destination_recipient_limit", "default_destination_recipient_limit"),
        ("_destination_concurrency_positive_feedback", "default_destination_concurrency_positive_feedback"),
        ("_destination_concurrency_negative_feedback", "default_destination_concurrency_negative_feedback"),
        ("_destination_concurrency_failed_cohort_limit", "default_destination_concurrency_failed_cohort_limit"),
        ("_destination_rate_delay", "default_destination_rate_delay"),
        ("_transport_rate_delay", "default_transport_rate_delay"),
    ];

    static readonly (string Suffix, string Global) CommandTimeLimit = ("_time_limit", "command_time_limit");

    /// <summary>
    /// The per-service parameters of one master.cf service, by its command: delivery agents (local,
    /// error, virtual, smtp, lmtp, pipe) get the scheduler parameters, pipe and spawn a time limit.
    /// A built-in parameter of the same name wins (local_destination_concurrency_limit = 2).
    /// </summary>
    internal static IEnumerable<ParameterDefinition> ServiceParameters(string service, string command)
    {
        IEnumerable<(string Suffix, string Global)> suffixes = command switch
        {
            "local" or "error" or "virtual" or "smtp" or "lmtp" => DeliveryServiceParameters,
            "pipe" => DeliveryServiceParameters.Append(CommandTimeLimit),
            "spawn" => [CommandTimeLimit],
            _ => [],
        };
        foreach (var (suffix, global) in suffixes)
        {
            var name = service + suffix;
            if (All.ContainsKey(name))
                continue;
            var template = All[global];
            yield return new ParameterDefinition(name, template.Kind, "$" + global, template.Choices, template.TimeUnit).Marked(template.Support);
        }
    }

    // The marks of parameters Edge does not implement (ParameterSupport); an unmarked parameter is implemented.
    static ParameterDefinition Refused(ParameterDefinition definition) => definition.Marked(ParameterSupport.Refused);

    static ParameterDefinition Warned(ParameterDefinition definition) => definition.Marked(ParameterSupport.Warned);

    static ParameterDefinition Meaningless(ParameterDefinition definition) => definition.Marked(ParameterSupport.Meaningless);

    static ParameterDefinition Str(string name, string defaultText) => new(name, ParameterKind.String, defaultText);

    static ParameterDefinition Raw(string name, string defaultText) => new(name, ParameterKind.Raw, defaultText);

    static ParameterDefinition List(string name, string defaultText) => new(name, ParameterKind.List, defaultText);

    static ParameterDefinition Bool(string name, string defaultText) => new(name, ParameterKind.Bool, defaultText);

    static ParameterDefinition Int(string name, string defaultText) => new(name, ParameterKind.Int, defaultText);

    static ParameterDefinition SignedInt(string name, string defaultText) => new(name, ParameterKind.SignedInt, defaultText);

    static ParameterDefinition Long(string name, string defaultText) => new(name, ParameterKind.Long, defaultText);

    static ParameterDefinition Time(string name, string defaultText) => new(name, ParameterKind.Time, defaultText);

    static ParameterDefinition Choice(string name, string defaultText, params string[] choices) =>
        new(name, ParameterKind.Choice, defaultText, choices);
}
