using System.Diagnostics.Metrics;

namespace Edge.Metrics;

/// <summary>
/// Edge's instruments (System.Diagnostics.Metrics), read by the Prometheus endpoint (edge_metrics_listen) and by any
/// OpenTelemetry or dotnet-counters listener of the meter "Edge". Names and units follow OpenTelemetry's conventions;
/// the Prometheus exporter turns "edge.smtpd.connections" with unit "{connection}" into edge_smtpd_connections_total
/// and "edge.queue.commit.duration" in seconds into edge_queue_commit_duration_seconds. Tags take a handful of values
/// each (a service, a command, a restriction named in main.cf), never a client or an address. Adding to an instrument
/// costs no allocation, which is why tag values are constants or strings the configuration already holds.
/// </summary>
internal static class EdgeMetrics
{
    public const string MeterName = "Edge";

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Connections = Meter.CreateCounter<long>("edge.smtpd.connections", "{connection}",
        "SMTP connections accepted, by master.cf service");

    public static readonly UpDownCounter<long> OpenConnections = Meter.CreateUpDownCounter<long>("edge.smtpd.connections.open", "{connection}",
        "SMTP connections open now, by master.cf service");

    public static readonly Counter<long> RefusedConnections = Meter.CreateCounter<long>("edge.smtpd.connections.refused", "{connection}",
        "SMTP connections turned away by a limit, by the limit's parameter");

    public static readonly Counter<long> Commands = Meter.CreateCounter<long>("edge.smtpd.commands", "{command}",
        "SMTP commands, by command and whether they succeeded, as smtpd's disconnect lines count them");

    public static readonly Counter<long> Replies = Meter.CreateCounter<long>("edge.smtpd.replies", "{reply}",
        "SMTP replies sent, by class (2xx, 3xx, 4xx, 5xx), as the client saw them");

    public static readonly Counter<long> Rejects = Meter.CreateCounter<long>("edge.smtpd.rejects", "{reply}",
        "4XX and 5XX replies of the restrictions (smtpd's NOQUEUE reject lines), by stage, reply class and the restriction that decided");

    public static readonly Counter<long> MessagesQueued = Meter.CreateCounter<long>("edge.messages.queued", "{message}",
        "Messages committed to the queue, by the protocol the queue file records (through smtpd: one a 250 queued as reply)");

    public static readonly Counter<long> BytesQueued = Meter.CreateCounter<long>("edge.messages.queued.size", "By",
        "Content of the messages committed to the queue, by protocol");

    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram("edge.queue.commit.duration", "s",
        "Time of one group commit of the queue log (the fsync a 250 waits for)",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    public static readonly Histogram<int> CommitBatch = Meter.CreateHistogram("edge.queue.commit.batch", "{waiter}",
        "Appends made durable by one group commit",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });

    public static readonly Counter<long> Deliveries = Meter.CreateCounter<long>("edge.delivery.recipients", "{recipient}",
        "Delivery attempts per recipient, by transport, address class (local, virtual_alias, virtual_mailbox, relay, default) " +
        "and status (sent, deferred, bounced, expired, SOFTBOUNCE), as the status= log lines say");

    public static readonly Histogram<double> DeliveryDuration = Meter.CreateHistogram("edge.delivery.duration", "s",
        "Time of the delivery attempt that gave a recipient its status, by transport (the last of the log line's delays=)",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300] });

    public static readonly Counter<long> DnsLookups = Meter.CreateCounter<long>("edge.dns.lookups", "{lookup}",
        "DNS lookups, by record type, answer (ok, nodata, nxdomain, servfail, refused, timeout, formerr) and source (cache or server)");

    public static readonly Histogram<double> DnsDuration = Meter.CreateHistogram("edge.dns.duration", "s",
        "Time of the DNS lookups the servers answered (not the cache's), by record type",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    public static readonly Counter<long> TableLookups = Meter.CreateCounter<long>("edge.table.lookups", "{lookup}",
        "Lookups of tables a server answers (ldap, pgsql, mysql, sqlite, memcache, socketmap, tcp), by table, result " +
        "(found, notfound, failed) and source: cache, server (asked without holding a thread) or server_blocking (a thread waited for the answer)");

    public static readonly Histogram<double> TableDuration = Meter.CreateHistogram("edge.table.duration", "s",
        "Time of the lookups a table's server answered (not the cache's), by table",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    public static readonly Counter<long> PolicyDecisions = Meter.CreateCounter<long>("edge.policy.decisions", "{decision}",
        "Answers of policy services and scripts (check_policy_service, check_policy_script), by policy and access(5) action; failed when none came");

    public static readonly Histogram<double> PolicyDuration = Meter.CreateHistogram("edge.policy.duration", "s",
        "Time a policy service or script took to answer, by policy",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });

    public static readonly Counter<long> TlsHandshakes = Meter.CreateCounter<long>("edge.tls.handshakes", "{handshake}",
        "TLS handshakes, by role (server: smtpd and postscreen; client: smtp and lmtp) and result");

    public static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);
}
