using System.Net;
using Edge.Admin;
using Edge.Config;
using Edge.Logging;
using Edge.Queue;
using Edge.Smtp.Session;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Edge.Hosting;

/// <summary>
/// The running server: configuration loaded and checked, the queue recovered, and one Kestrel listener per
/// master.cf smtpd service plus the admin socket. Nothing listens until all of that succeeded.
/// </summary>
internal sealed class EdgeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly QueueStore _queue;
    private readonly List<ListenOptions> _listeners;
    private readonly CancellationTokenSource _stopping;

    private EdgeServer(WebApplication app, QueueStore queue, List<ListenOptions> listeners, CancellationTokenSource stopping)
    {
        _app = app;
        _queue = queue;
        _listeners = listeners;
        _stopping = stopping;
    }

    /// <summary>The bound SMTP endpoints, in master.cf order (port 0 in master.cf becomes the real port).</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => _listeners.Select(l => l.IPEndPoint!).ToList();

    public QueueStore Queue => _queue;

    /// <summary>Loads and checks the configuration; throws <see cref="ConfigException"/> naming file, line and parameter.</summary>
    public static (MainConfig Main, List<(IReadOnlyList<IPEndPoint> Endpoints, SmtpdSettings Settings)> Listeners) LoadConfiguration(
        string? configDirectory, Action<string> warn, Action<string>? note = null)
    {
        MainConfig main = MainConfig.Load(configDirectory, warn);
        main.Validate();
        MasterConfig master = MasterConfig.Load(configDirectory, main);
        master.Validate(main);
        var listeners = new List<(IReadOnlyList<IPEndPoint>, SmtpdSettings)>();
        foreach (MasterService service in master.Services)
        {
            switch (service.Role)
            {
                case MasterServiceRole.Listener:
                    listeners.Add((service.Endpoint!.Resolve(main),
                        SmtpdSettingsFactory.Create(service.ConfigFrom(main))));
                    break;
                case MasterServiceRole.Internal:
                    note?.Invoke($"{service.File}, line {service.Line}: service {service.Name}: Postfix's {service.Command} is built into Edge");
                    break;
                case MasterServiceRole.Transport:
                    note?.Invoke($"{service.File}, line {service.Line}: transport {service.Name} ({service.Command}, maxproc {service.MaxProc}): delivery is not implemented yet; messages stay queued");
                    break;
                case MasterServiceRole.Other:
                    warn($"{service.File}, line {service.Line}: service {service.Name}: command \"{service.Command}\" is not supported by Edge; ignored");
                    break;
            }
        }
        if (listeners.Count == 0)
        {
            throw new ConfigException(master.File, 0, null, "no inet smtpd service: Edge would not listen anywhere");
        }
        return (main, listeners);
    }

    public static async Task<EdgeServer> StartAsync(string? configDirectory, CancellationToken cancellationToken = default)
    {
        var warnings = new List<string>();
        var notes = new List<string>();
        var (main, listeners) = LoadConfiguration(configDirectory, warnings.Add, notes.Add);
        MailLog.Configure(main.Get("myhostname"));
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
        try
        {
            var bound = new List<ListenOptions>();
            var stopping = new CancellationTokenSource();
            var gate = new ConnectionGate(main.GetInt("edge_connection_limit"), main.Get("myhostname"));
            WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            // A burst of thousands of connections must wait in the kernel, not be dropped and retried.
            builder.WebHost.UseSockets(sockets => sockets.Backlog = 4096);
            builder.WebHost.UseKestrel(kestrel =>
            {
                kestrel.AddServerHeader = false;
                foreach ((IReadOnlyList<IPEndPoint> endpoints, SmtpdSettings settings) in listeners)
                {
                    var anvil = new Anvil();
                    foreach (IPEndPoint endpoint in endpoints)
                    {
                        kestrel.Listen(endpoint, listen =>
                        {
                            listen.Run(connection => ServeAsync(connection, gate, settings, anvil, queue, stopping.Token));
                            bound.Add(listen);
                        });
                    }
                }
                string adminPath = AdminSocket.PathOf(queueDirectory);
                Directory.CreateDirectory(Path.GetDirectoryName(adminPath)!);
                File.Delete(adminPath);
                var admin = new AdminSocket(queue);
                kestrel.ListenUnixSocket(adminPath, listen => listen.Run(admin.HandleAsync));
            });
            WebApplication app = builder.Build();
            await app.StartAsync(cancellationToken);
            var server = new EdgeServer(app, queue, bound, stopping);
            MailLog.Info($"daemon started -- version {typeof(EdgeServer).Assembly.GetName().Version?.ToString()}, configuration {configDirectory ?? "(built-in)"}, queue {queueDirectory} with {queue.Count} messages, listening on {string.Join(", ", server.Endpoints)}", "master");
            return server;
        }
        catch
        {
            await queue.DisposeAsync();
            throw;
        }
    }

    private static async Task ServeAsync(ConnectionContext connection, ConnectionGate gate, SmtpdSettings settings,
        Anvil anvil, QueueStore queue, CancellationToken stopping)
    {
        if (!await gate.TryEnterAsync(connection))
        {
            return;
        }
        try
        {
            await using var session = new SmtpSession(settings, queue, anvil, connection.Transport,
                connection.RemoteEndPoint, connection.ConnectionClosed, stopping);
            await session.RunAsync();
        }
        finally
        {
            gate.Leave();
        }
    }

    /// <summary>Stops: sessions waiting for their client get "421 4.3.2 Service shutting down", then the queue is closed.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        await _app.StopAsync();
        _stopping.Dispose();
        await _app.DisposeAsync();
        await _queue.DisposeAsync();
        MailLog.Info("terminating on signal", "master");
        await MailLog.FlushAsync();
    }
}
