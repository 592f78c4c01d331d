using System.Net;
using Edge.Admin;
using Edge.Config;
using Edge.Delivery.Smtp;
using Edge.Logging;
using Edge.Metrics;
using Edge.Queue;
using Edge.Restrictions.Policy;
using Edge.Restrictions.Policy.Store;
using Edge.Restrictions.Verify;
using Edge.Scheduler;
using Edge.Smtp.Screen;
using Edge.Smtp.Session;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Edge.Hosting;

/// <summary>
/// The running server: configuration loaded and checked, the queue recovered, and one Kestrel listener per
/// master.cf smtpd service plus the admin socket. Nothing listens until all of that succeeded.
/// </summary>
internal sealed class EdgeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly QueueStore _queue;
    private readonly List<ListenOptions> _bound;
    private readonly Lifetime _lifetime;
    private readonly string? _configDirectory;
    private readonly List<Listener> _listeners;
    private readonly ConnectionGate _gate;
    private readonly string _queueDirectory;
    private readonly QueueManager? _qmgr;
    private readonly SmtpDeliveryAgent _smtpClient;
    private readonly PolicyStores _stores;
    private readonly AddressVerifier _verifier;
    private readonly QueueMetrics _queueMetrics;
    private readonly RecentRateWindow _rates = new();
    private readonly PickupService? _pickup;

    /// <summary>The configuration last loaded: its maillog_file is opened again at a reload, even one whose new configuration fails.</summary>
    private MainConfig _main;

    /// <summary>The stop signals sessions watch: first "finish your message", then "end now".</summary>
    private sealed class Lifetime : IDisposable
    {
        public CancellationTokenSource Stopping { get; } = new();
        public CancellationTokenSource HardStop { get; } = new();
        public TimeSpan Grace { get; set; }

        public void Dispose()
        {
            Stopping.Dispose();
            HardStop.Dispose();
        }
    }

    private EdgeServer(WebApplication app, QueueStore queue, List<ListenOptions> bound, Lifetime lifetime,
        string? configDirectory, List<Listener> listeners, ConnectionGate gate, string queueDirectory, QueueManager? qmgr,
        SmtpDeliveryAgent smtpClient, PolicyStores stores, AddressVerifier verifier, PickupService? pickup, MainConfig main)
    {
        _main = main;
        _pickup = pickup;
        _stores = stores;
        _verifier = verifier;
        _app = app;
        _queue = queue;
        _bound = bound;
        _lifetime = lifetime;
        _configDirectory = configDirectory;
        _listeners = listeners;
        _gate = gate;
        _queueDirectory = queueDirectory;
        _qmgr = qmgr;
        _smtpClient = smtpClient;
        _queueMetrics = new QueueMetrics(queue);
    }

    /// <summary>The bound SMTP endpoints, in master.cf order (port 0 in master.cf becomes the real port).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => _bound.Select(l => l.IPEndPoint!).ToList();

    public QueueStore Queue => _queue;

    /// <summary>
    /// Loads and checks the configuration; throws <see cref="ConfigException"/> naming file, line and parameter. What
    /// Edge refuses only because it is not implemented yet goes to <paramref name="refused"/> when given (edge check
    /// goes on to report the rest); otherwise the first of it is thrown once everything was checked.
    /// </summary>
    public static (MainConfig Main, MasterConfig Master, List<Listener> Listeners) LoadConfiguration(
        string? configDirectory, PolicyStores stores, AddressVerifier verifier, Action<string> warn, Action<string>? note = null,
        Action<ConfigException>? refused = null)
    {
        MainConfig main = MainConfig.Load(configDirectory, warn);
        main.Validate();
        MasterConfig master = MasterConfig.Load(configDirectory, main);
        master.Validate(main);
        VerifySettings.From(main);
        var refusals = new List<ConfigException>();
        ConfigurationCheck.Run(main, master, warn, refused ?? refusals.Add);
        if (refusals.Count > 0)
        {
            throw refusals[0];
        }
        var listeners = new List<Listener>();
        foreach (MasterService service in master.Listeners)
        {
            MainConfig config = service.ConfigFrom(main);
            ScreenSettings? screen = null;
            if (service.Command == "postscreen")
            {
                screen = ScreenSettings.From(config, () => stores.Open(config, ScriptLimits.From(config).Time), DeliveryFactory.Resolver(config, out _),
                    TlsProxy(master, config)?.ConfigFrom(main));
                config = ScreenedSmtpd(master, service, config).ConfigFrom(main);
            }
            listeners.Add(new Listener(service.Name, service.Endpoint!.Resolve(main), SmtpdSettingsFactory.Create(config, stores, verifier), screen));
        }
        if (listeners.Count == 0)
        {
            throw new ConfigException(master.File, 0, null, "no inet smtpd service: Edge would not listen anywhere");
        }
        string[] builtIn = [.. master.Services.Where(s => s.Role == MasterServiceRole.Internal).Select(s => s.Name)];
        if (builtIn.Length > 0)
        {
            note?.Invoke($"{master.File}: built into Edge: {string.Join(", ", builtIn)}");
        }
        return (main, master, listeners);
    }

    /// <summary>edge postlog's line, written into this server's log; false for a priority or tag postlog would not send.</summary>
    private static bool Postlog(string priority, string tag, string text)
    {
        if (!PostlogLine.IsValid(priority, tag))
        {
            return false;
        }
        PostlogLine.Write(priority, tag, text);
        return true;
    }

    /// <summary>The tlsproxy that does a postscreen service's STARTTLS: master.cf's unix service named tlsproxy_service_name.</summary>
    internal static MasterService? TlsProxy(MasterConfig master, MainConfig postscreen)
    {
        string name = postscreen.Get("tlsproxy_service_name");
        return master.Services.FirstOrDefault(s => s.Name == name && s.Type == MasterServiceType.Unix && s.Command == "tlsproxy");
    }

    /// <summary>The smtpd a postscreen service hands clients to: master.cf's pass service named smtpd_service_name.</summary>
    private static MasterService ScreenedSmtpd(MasterConfig master, MasterService postscreen, MainConfig config)
    {
        string name = config.Get("smtpd_service_name");
        return master.Screened.FirstOrDefault(s => s.Name == name)
            ?? throw new ConfigException(postscreen.File, postscreen.Line, null,
                $"service {postscreen.Name}: postscreen hands the clients it passes to the service {name} (smtpd_service_name), " +
                $"and master.cf has no \"{name} pass - - n - - smtpd\" line");
    }

    public static async Task<EdgeServer> StartAsync(string? configDirectory, CancellationToken cancellationToken = default)
    {
        // The policy stores are the server's from here: a start-up that fails closes them (a last checkpoint).
        var stores = new PolicyStores(openFaster: true);
        try
        {
            return await StartAsync(configDirectory, stores, cancellationToken);
        }
        catch
        {
            await stores.DisposeAsync();
            throw;
        }
    }

    private static async Task<EdgeServer> StartAsync(string? configDirectory, PolicyStores stores, CancellationToken cancellationToken)
    {
        var warnings = new List<string>();
        var notes = new List<string>();
        var verifier = new AddressVerifier();
        var (main, master, listeners) = LoadConfiguration(configDirectory, stores, verifier, warnings.Add, notes.Add);
        ConfigureVerifier(verifier, main, stores);
        // Routing and transports are checked before anything listens, like the rest of the configuration.
        var smtpClient = new SmtpDeliveryAgent();
        QueueManagerSettings delivery = DeliveryFactory.Settings(main, master, smtpClient);
        MailLog.Configure(main.Get("myhostname"), MaillogFile.Open(main), main.Get("edge_log_format").Equals("json", StringComparison.OrdinalIgnoreCase));
        foreach (string warning in warnings)
        {
            MailLog.Warning(warning, "master");
        }
        foreach (string line in notes)
        {
            MailLog.Info(line, "master");
        }
        string queueDirectory = Path.GetFullPath(main.Get("queue_directory"));
        QueueStore queue = await QueueStore.OpenAsync(queueDirectory, cancellationToken);
        // sendmail -bv requests are answered by the queue manager, made below; pickup starts after it.
        QueueManager? reporter = null;
        PickupService? pickup = PickupService.From(main, master, queue, queueDirectory, (request, token) => reporter is { } manager
            ? manager.ReportAsync(request, token)
            : throw new IOException("sendmail -bv needs a queue manager (master.cf has no qmgr)"));
        queue.LogHeadroom = main.GetLong("edge_queue_log_headroom");
        queue.MinFree = QueueMinFree(main);
        var lifetime = new Lifetime { Grace = main.GetTime("edge_shutdown_time_limit") };
        // Past the grace period, a session or delivery still waiting for disk space to commit stops waiting.
        lifetime.HardStop.Token.Register(queue.StopWaitingForSpace);
        try
        {
            var bound = new List<ListenOptions>();
            var gate = new ConnectionGate(main.GetInt("edge_connection_limit"), main.Get("myhostname"));
            EdgeServer? server = null;
            // The empty builder: no appsettings files, so no file watcher on the working directory, which
            // holds the queue and would wake it on every log write.
            WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore();
            builder.WebHost.UseSockets(sockets =>
            {
                // A burst of thousands of connections must wait in the kernel, not be dropped and retried.
                sockets.Backlog = 4096;
                // A session's work per command is short and never blocks, so it runs on the socket's I/O
                // thread instead of being handed to the thread pool: fewer context switches per command,
                // measured as about 13% more messages per second (perf/RESULTS.md). RunCommand also inlines
                // the runtime's socket completions, which this needs to pay off.
                sockets.UnsafePreferInlineScheduling = true;
                // What a client has sent and its session has not taken yet: two turns of content (not Kestrel's 1 MiB),
                // so that thousands of clients streaming at once hold little in memory; the kernel buffers the rest.
                sockets.MaxReadBufferSize = 2 * SmtpSession.FairShare;
            });
            // What the admin socket and the admin API do, on the server once it exists.
            string? Reload() => server is null ? "Edge is still starting" : server.Reload();
            Task<string?> Flush(string? site) => server?._qmgr?.FlushAsync(site) ?? Task.FromResult<string?>("no queue manager runs (master.cf has no qmgr)");
            void Wake() => server?._qmgr?.Wake();
            IReadOnlyList<DestinationRow> Destinations() => server?._qmgr is { } manager
                ? [.. manager.Destinations().Select(d => new DestinationRow(d.Route.Transport, d.Route.Nexthop, d.Window, d.Busy, d.Dead?.Until, d.Dead?.Reason))]
                : [];
            EndPoint? metrics = MetricsEndpoint.From(main, queueDirectory);
            Uri? otlp = MetricsEndpoint.OtlpFrom(main);
            AdminApi? api = main.GetBool("edge_admin_api")
                ? new AdminApi(queue, Reload, Flush, Wake, () => server is not null && !lifetime.Stopping.IsCancellationRequested,
                    MetricsEndpoint.AdminToken(main, metrics),
                    new QueueLive(Destinations, () => server?._rates.Snapshot() ?? new RecentRates(0, 0, 0, 0), main.Get("myhostname")))
                : null;
            if (metrics is not null || otlp is not null)
            {
                MetricsEndpoint.AddServices(builder.Services, metrics is not null, otlp, main.GetTime("edge_metrics_otlp_interval"));
            }
            // Kestrel waits for sessions to end; the shutdown deadline itself is ours (edge_shutdown_time_limit).
            builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = Timeout.InfiniteTimeSpan);
            // ETRN's flush: null when no queue manager runs.
            Func<string, bool?> etrn = site => server?._qmgr?.BeginFlush(site);
            builder.WebHost.UseKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                foreach (Listener listener in listeners)
                {
                    foreach (IPEndPoint endpoint in listener.Endpoints)
                    {
                        kestrel.Listen(endpoint, listen =>
                        {
                            listen.Run(connection => ServeAsync(connection, gate, listener, queue, lifetime, etrn));
                            bound.Add(listen);
                        });
                    }
                }
                string adminPath = AdminSocket.PathOf(queueDirectory);
                Directory.CreateDirectory(Path.GetDirectoryName(adminPath)!);
                File.Delete(adminPath);
                var admin = new AdminSocket(queue, Reload, Flush, Wake, Postlog);
                kestrel.ListenUnixSocket(adminPath, listen => listen.Run(admin.HandleAsync));
                if (metrics is not null)
                {
                    MetricsEndpoint.Listen(kestrel, metrics);
                }
            });
            WebApplication app = builder.Build();
            if (metrics is not null)
            {
                MetricsEndpoint.Map(app, api);
            }
            try
            {
                await app.StartAsync(cancellationToken);
            }
            catch (IOException e) when (e.InnerException is AddressInUseException)
            {
                // Kestrel names the endpoint as an http:// URL; an SMTP administrator expects host:port.
                throw new IOException(e.Message.Replace("Failed to bind to address http://", "").TrimEnd('.'), e);
            }
            // As in Postfix, no qmgr line in master.cf means no queue manager: mail stays queued.
            QueueManager? qmgr = master.Services.Any(s => s.Command is "qmgr" or "oqmgr")
                ? new QueueManager(queue, delivery)
                : null;
            reporter = qmgr;
            if (qmgr is not null)
            {
                verifier.Probe = async (sender, address, token) => ProbeOutcomeOf(await qmgr.ProbeAsync(sender, address, token));
            }
            verifier.Stopping = lifetime.HardStop.Token;
            server = new EdgeServer(app, queue, bound, lifetime, configDirectory, listeners, gate, queueDirectory, qmgr, smtpClient, stores, verifier, pickup, main);
            pickup?.Start();
            MailLog.Info($"daemon started -- version {typeof(EdgeServer).Assembly.GetName().Version?.ToString()}, configuration {configDirectory ?? "(built-in)"}, queue {queueDirectory} with {queue.Count} messages, listening on {string.Join(", ", server.Endpoints)}", "master");
            return server;
        }
        catch
        {
            lifetime.Dispose();
            await queue.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Re-reads main.cf and master.cf (postfix reload, SIGHUP). New sessions get the new settings; sessions
    /// in progress and open connections are not touched. Delivery attempts that start from now on use the new
    /// routing, tables and transports; those in progress finish with the old. A configuration that does not
    /// load changes nothing. Listen addresses and queue_directory change only with a restart; maillog_file is opened
    /// again.
    /// </summary>
    /// <returns>null when the new configuration is in force and maillog_file open again, otherwise why not.</returns>
    public string? Reload()
    {
        MainConfig main;
        List<Listener> fresh;
        QueueManagerSettings delivery;
        try
        {
            MasterConfig master;
            (main, master, fresh) = LoadConfiguration(_configDirectory, _stores, _verifier, w => MailLog.Warning(w, "master"));
            delivery = DeliveryFactory.Settings(main, master, _smtpClient);
            ConfigureVerifier(_verifier, main, _stores);
        }
        catch (ConfigException e)
        {
            MailLog.Warning($"reload failed, the running configuration stays in force: {e.Message}", "master");
            return ReopenLog() is { } failure ? $"{e.Message}; {failure}" : e.Message;
        }
        _main = main;
        if (!fresh.Select(l => l.Service).SequenceEqual(_listeners.Select(l => l.Service)))
        {
            MailLog.Warning("reload: master.cf listeners changed; they take effect when Edge is restarted", "master");
        }
        if (main.Get("edge_log_format").Equals("json", StringComparison.OrdinalIgnoreCase) != MailLog.Json)
        {
            MailLog.Warning("reload: edge_log_format changed; it takes effect when Edge is restarted", "master");
        }
        if (Path.GetFullPath(main.Get("queue_directory")) != _queueDirectory)
        {
            MailLog.Warning("reload: queue_directory changed; it takes effect when Edge is restarted", "master");
        }
        foreach (Listener listener in _listeners)
        {
            Listener? replacement = fresh.FirstOrDefault(l => l.Service == listener.Service);
            if (replacement is not null)
            {
                listener.Settings = replacement.Settings;
                listener.Screen = replacement.Screen;
            }
        }
        _gate.Limit = main.GetInt("edge_connection_limit");
        _qmgr?.Reconfigure(delivery);
        _queue.LogHeadroom = main.GetLong("edge_queue_log_headroom");
        _queue.MinFree = QueueMinFree(main);
        _lifetime.Grace = main.GetTime("edge_shutdown_time_limit");
        string? reopened = ReopenLog();
        MailLog.Info($"reload -- configuration {_configDirectory ?? "(built-in)"}", "master");
        return reopened;
    }

    /// <summary>
    /// maillog_file opened again, as postlogd does at a reload: after postfix logrotate renamed it, a new file. null, or
    /// why it could not be (the log goes on where it went, and the reload says so: logrotate must not compress that file).
    /// </summary>
    private string? ReopenLog()
    {
        try
        {
            MailLog.Reopen(MaillogFile.Open(_main));
            return null;
        }
        catch (ConfigException e)
        {
            MailLog.Warning($"reload: {e.Message}; the mail log goes on where it went", "master");
            return e.Message;
        }
    }

    /// <summary>
    /// verify(8)'s settings and cache: edge_policy_store's store (FasterKV under the queue directory by default, or
    /// Redis), or one in memory when address_verify_map is empty, as Postfix keeps it in memory then.
    /// </summary>
    private static void ConfigureVerifier(AddressVerifier verifier, MainConfig main, PolicyStores stores)
    {
        VerifySettings settings = VerifySettings.From(main);
        TimeSpan timeLimit = ScriptLimits.From(main).Time;
        verifier.Configure(settings, settings.Persistent ? () => stores.Open(main, timeLimit) : () => new MemoryPolicyStore());
    }

    /// <summary>A probe's delivery result as the verifier records it.</summary>
    private static ProbeOutcome ProbeOutcomeOf(Delivery.DeliveryResult result) => new(result.Status switch
    {
        DeliveryStatus.Sent => VerifyStatus.Ok,
        DeliveryStatus.Bounced => VerifyStatus.Bounce,
        _ => VerifyStatus.Defer,
    }, result.Reason);

    /// <summary>queue_minfree, with Postfix's warning when it is less than 1.5 times message_size_limit.</summary>
    private static long QueueMinFree(MainConfig main)
    {
        long minFree = main.GetLong("queue_minfree");
        long sizeLimit = main.GetLong("message_size_limit");
        if (minFree > 0 && sizeLimit > 0 && minFree / 1.5 < sizeLimit)
        {
            MailLog.Warning($"queue_minfree({minFree}) should be at least 1.5*message_size_limit({sizeLimit})", "master");
        }
        return minFree;
    }

    private static async Task ServeAsync(ConnectionContext connection, ConnectionGate gate, Listener listener,
        QueueStore queue, Lifetime lifetime, Func<string, bool?> etrn)
    {
        var service = EdgeMetrics.Tag("service", listener.Service);
        if (!await gate.TryEnterAsync(connection))
        {
            EdgeMetrics.RefusedConnections.Add(1, EdgeMetrics.Tag("limit", "edge_connection_limit"));
            return;
        }
        EdgeMetrics.Connections.Add(1, service);
        EdgeMetrics.OpenConnections.Add(1, service);
        try
        {
            EndPoint? client = connection.RemoteEndPoint;
            IPEndPoint? server = null;
            if (listener.Screen is { } screen && client is IPEndPoint remote)
            {
                var screening = new ScreenSession(screen, listener.ScreenClients, connection.Transport, remote, connection.LocalEndPoint,
                    lifetime.Stopping.Token, lifetime.HardStop.Token);
                if (!await screening.RunAsync())
                {
                    return;
                }
                (client, server) = (screening.Client, screening.Server);
            }
            await using var session = new SmtpSession(listener.Settings, queue, listener.Anvil, connection.Transport,
                client, connection.ConnectionClosed, lifetime.Stopping.Token, lifetime.HardStop.Token,
                connection.Features.Get<IConnectionSocketFeature>()?.Socket, etrn, server);
            await session.RunAsync();
        }
        finally
        {
            EdgeMetrics.OpenConnections.Add(-1, service);
            gate.Leave();
        }
    }

    /// <summary>
    /// Stops: no new connections; sessions waiting for a command hear "421 4.3.2 Service shutting down";
    /// sessions in the middle of a message may finish it within edge_shutdown_time_limit; then the queue's
    /// last commit and close.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        _lifetime.Stopping.Cancel();
        _lifetime.HardStop.CancelAfter(_lifetime.Grace);
        await _app.StopAsync(_lifetime.HardStop.Token);
        await _app.DisposeAsync();
        if (_pickup is not null)
        {
            await _pickup.DisposeAsync();
        }
        if (_qmgr is not null)
        {
            await _qmgr.DisposeAsync();
        }
        await _smtpClient.DisposeAsync();
        await _stores.DisposeAsync();
        _queueMetrics.Dispose();
        _rates.Dispose();
        _lifetime.Dispose();
        await _queue.DisposeAsync();
        MailLog.Info("terminating on signal", "master");
        await MailLog.FlushAsync();
    }
}
