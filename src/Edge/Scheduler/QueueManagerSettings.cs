using Edge.Cleanup;
using Edge.Delivery;
using Edge.Resolve;

namespace Edge.Scheduler;

/// <summary>
/// What the queue manager takes from main.cf and master.cf: routing (of mail, and of address verification probes), each transport's agent with its maxproc
/// slots and destination limits, the schedule, the bounce daemon's settings, and what cleanup and the mail filters do to the mail Edge writes itself. A reload replaces it whole;
/// a delivery attempt keeps the one it started with.
/// </summary>
internal sealed record QueueManagerSettings(
    TransportResolver Resolver,
    TransportResolver ProbeResolver,
    IReadOnlyDictionary<string, (ITransport Transport, SemaphoreSlim Slots, int MaxProc, DestinationPolicy Policy)> Transports,
    QueueSchedule Schedule,
    string MyHostname,
    IReadOnlySet<string> DeferTransports,
    DomainSet FastFlushDomains,
    BounceSettings Bounce,
    InternalMailKinds Internal)
{
    public static QueueManagerSettings Create(TransportResolver resolver, TransportResolver probeResolver,
        IReadOnlyDictionary<string, (ITransport Transport, int MaxProc, DestinationPolicy Policy)> transports,
        QueueSchedule schedule, string myHostname, IEnumerable<string> deferTransports, DomainSet fastFlushDomains,
        BounceSettings bounce, InternalMailKinds internalMail) =>
        new(resolver, probeResolver,
            transports.ToDictionary(t => t.Key,
                t => (t.Value.Transport, new SemaphoreSlim(t.Value.MaxProc > 0 ? t.Value.MaxProc : 100), t.Value.MaxProc, t.Value.Policy)),
            schedule, myHostname, deferTransports.ToHashSet(StringComparer.OrdinalIgnoreCase), fastFlushDomains, bounce, internalMail);

    /// <summary>
    /// After a reload: a transport whose maxproc did not change keeps its slots, so that runs still going
    /// from before the reload count against the same limit as new ones.
    /// </summary>
    public QueueManagerSettings KeepingSlotsOf(QueueManagerSettings previous) => this with
    {
        Transports = Transports.ToDictionary(t => t.Key,
            t => previous.Transports.TryGetValue(t.Key, out var old) && old.MaxProc == t.Value.MaxProc
                ? t.Value with { Slots = old.Slots }
                : t.Value),
    };
}
