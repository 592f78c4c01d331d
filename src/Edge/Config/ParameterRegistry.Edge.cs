namespace Edge.Config;

public static partial class ParameterRegistry
{
    // Edge's own parameters, where one process serving thousands of connections needs a limit that
    // Postfix's process model gives for free (maxproc, one client per smtpd process). Prefixed edge_ so
    // that they never collide with a Postfix parameter.
    static ParameterDefinition[] EdgeParameters() =>
    [
        // The most SMTP connections the whole server holds; the next one hears "421 4.7.0 … too many
        // connections" and is closed.
        Int("edge_connection_limit", "20000"),
        // Where Prometheus scrapes Edge's metrics (GET /metrics over HTTP): address:port, IPv6 in brackets; empty for
        // no endpoint. Anyone who reaches it reads the figures, so it belongs on loopback or a management network.
        Str("edge_metrics_listen", ""),
        // The mail log's lines: postfix (syslog's shape, what pflogsumm and Postfix's own tools read) or json (one
        // object per line, with the queue ID, client, addresses, relay, delays, DSN and status as fields). Read at start-up.
        Choice("edge_log_format", "postfix", "postfix", "json"),
        // Where the metrics are also pushed over OTLP (HTTP with protobuf, to ENDPOINT/v1/metrics), and how often;
        // empty for no push.
        Str("edge_metrics_otlp_endpoint", ""),
        // The admin HTTP API (the queue, postsuper's and postqueue's actions, reload, health and readiness) on the
        // edge_metrics_listen endpoint. Bound to other than loopback or a Unix socket it needs a token file, whose
        // content clients send as "Authorization: Bearer TOKEN"; with one, every API route wants it.
        Bool("edge_admin_api", "no"),
        Str("edge_admin_token_file", ""),
        Time("edge_metrics_otlp_interval", "60s"),
        // The longest an SMTP session may last, however busy, so that no client holds a connection
        // forever by trickling bytes (smtpd_per_request_deadline bounds each command).
        Time("edge_session_time_limit", "3600s"),
        // At SIGTERM, how long sessions in the middle of DATA or BDAT may take to finish their message;
        // sessions waiting for a command are told "421 4.3.2 Service shutting down" at once.
        Time("edge_shutdown_time_limit", "30s"),
        // The DNS servers the delivery agents ask (address or address:port, IPv6 in brackets); empty means
        // the nameservers of /etc/resolv.conf, as Postfix uses the system's.
        List("edge_dns_servers", ""),
        // The queue log is cut only from its start, so a long-deferred message would keep every segment
        // written after it: once the log is longer than twice the queued mail plus this many bytes, the
        // oldest messages are copied to its end and the segments behind them deleted.
        Long("edge_queue_log_headroom", "67108864"),
        // What one call of a check_policy_script may use: past any of these the script is interrupted (its thread
        // goes on serving others) and the request gets edge_policy_default_action. The memory limit counts the bytes
        // the call allocates; the recursion limit, how deep its calls nest.
        Time("edge_policy_time_limit", "1s"),
        Long("edge_policy_memory_limit", "67108864"),
        Int("edge_policy_statement_limit", "10000000"),
        Int("edge_policy_recursion_limit", "400"),
        // The access(5) action of a policy script call that was stopped by a limit or failed, as
        // smtpd_policy_service_default_action is for a policy server that does not answer.
        Str("edge_policy_default_action", "451 4.3.5 Server configuration problem"),
        // How many bytes of the body endOfData(message) sees (message.body), as body_checks_size_limit bounds body_checks.
        Int("edge_policy_body_limit", "51200"),
        // Where policy scripts' store keeps its values: memory (forgotten at restart), faster:DIRECTORY (a FasterKV
        // that outlives restarts; one Edge process per directory) or redis:HOST:PORT (shared by every Edge that
        // names the server). A call whose store does not answer gets edge_policy_store_failure_action.
        Str("edge_policy_store", "faster:$queue_directory/policy-store"),
        Str("edge_policy_store_failure_action", "451 4.3.0 Temporary lookup failure"),
        // What start-up and reload do with a parameter (or master.cf service) Edge does not implement yet, set to
        // other than its default where it would change what is accepted, filtered, authenticated, encrypted or
        // rewritten: refuse to start, or start with a warning per parameter. Others are always just warned about.
        // Tables a server answers (socketmap:, tcp: …): how long one lookup may take before it fails (and the mail
        // waits), how long an answer is kept for the next lookup of the same key, found and not found (0 keeps none:
        // every lookup asks), and how many connections one table holds to its server at once.
        Time("edge_table_timeout", "100s"),
        Time("edge_table_cache_time", "60s"),
        Time("edge_table_negative_cache_time", "10s"),
        Int("edge_table_connection_limit", "100"),
        Choice("edge_unimplemented_parameters", "refuse", "refuse", "warn"),
    ];
}
