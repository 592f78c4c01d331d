using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Edge.Hosting;
using Edge.Metrics;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Edge.Load;

/// <summary>
/// <c>edge sink</c> at run time: a socket accepting connections, each session started on the thread that accepted it
/// (as smtp-sink's one event loop does, with no hand-over to another thread per connection); a watchdog that ends
/// connections silent for smtpd_timeout; and, when edge_metrics_listen is set, the counts as Prometheus metrics
/// (edge_sink_*) on a Kestrel endpoint of their own.
/// </summary>
internal sealed class SinkServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly WebApplication? _metrics;
    private readonly SinkSettings _settings;
    private readonly ConcurrentDictionary<SinkSession, byte> _sessions = new();
    private readonly Meter? _meter;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly CancellationTokenSource _watching = new();
    private readonly Task _watchdog;
    private readonly Task _accepting;

    private SinkServer(Socket listener, WebApplication? metrics, SinkSettings settings, Meter? meter)
    {
        _listener = listener;
        _metrics = metrics;
        _settings = settings;
        _meter = meter;
        Endpoint = (IPEndPoint)listener.LocalEndPoint!;
        _watchdog = WatchAsync(_watching.Token);
        _accepting = AcceptAsync();
    }

    /// <summary>Where the sink listens (the port the system chose when port 0 was asked for).</summary>
    public IPEndPoint Endpoint { get; }

    public SinkStats Stats => _settings.Stats;

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    public static async Task<SinkServer> StartAsync(SinkSettings settings, CancellationToken cancellationToken)
    {
        IPEndPoint endpoint = await LoadArguments.EndpointAsync(settings.Options.Host, settings.Options.Port, cancellationToken);
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        WebApplication? metrics = null;
        Meter? meter = null;
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }
            listener.Bind(endpoint);
            // A burst of thousands of connections waits in the kernel, not refused.
            listener.Listen(4096);
            if (MetricsEndpoint.From(settings.Config, settings.Config.Get("queue_directory")) is { } at)
            {
                meter = Instruments(settings.Stats);
                metrics = await StartMetricsAsync(at, cancellationToken);
            }
            return new SinkServer(listener, metrics, settings, meter);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            meter?.Dispose();
            throw new IOException($"{endpoint}: {e.Message}", e);
        }
        catch
        {
            listener.Dispose();
            meter?.Dispose();
            throw;
        }
    }

    /// <summary>edge_metrics_listen: the meter "Edge" in Prometheus' text format, as Edge's server serves it.</summary>
    private static async Task<WebApplication> StartMetricsAsync(EndPoint at, CancellationToken cancellationToken)
    {
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseSockets();
        MetricsEndpoint.AddServices(builder.Services, scrape: true, otlp: null, TimeSpan.Zero);
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            MetricsEndpoint.Listen(kestrel, at);
        });
        WebApplication app = builder.Build();
        MetricsEndpoint.Map(app, api: null);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            await app.DisposeAsync();
            throw new IOException($"edge_metrics_listen: {e.Message.Replace("Failed to bind to address http://", "").TrimEnd('.')}", e);
        }
        return app;
    }

    /// <summary>
    /// Takes connections until the sink stops. A session runs on the thread that accepted its connection until it first
    /// waits for the client (the greeting is sent by then), and from there on the thread its socket's completions run on.
    /// </summary>
    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
            {
                return;
            }
            catch (SocketException e)
            {
                // One client that went away before it was taken (ECONNABORTED), or no descriptors left (EMFILE): the
                // sink goes on, after a pause when the system is out of something.
                if (e.SocketErrorCode is not (SocketError.ConnectionAborted or SocketError.ConnectionReset))
                {
                    Logging.MailLog.Warning($"edge sink: accept: {e.Message}", "sink");
                    await Task.Delay(100);
                }
                continue;
            }
            try
            {
                client.NoDelay = true;
            }
            catch (SocketException)
            {
                // Reset before it was taken.
                client.Dispose();
                continue;
            }
            _ = ServeAsync(client);
        }
    }

    /// <summary>One connection, started and forgotten by the accept loop: nothing it throws may go unsaid.</summary>
    private async Task ServeAsync(Socket socket)
    {
        var connection = new SinkConnection(socket);
        var session = new SinkSession(_settings, connection);
        _sessions[session] = 0;
        try
        {
            await session.RunAsync();
        }
        catch (Exception e)
        {
            Logging.MailLog.Warning($"edge sink: connection from {connection.Remote}: {e.Message}", "sink");
        }
        finally
        {
            connection.Dispose();
            _sessions.TryRemove(session, out _);
        }
    }

    /// <summary>Once a second, ends the connections whose client has said nothing for smtpd_timeout; once a minute, forgets old greylisting triplets.</summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long ticks = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                if (++ticks % 60 == 0)
                {
                    _settings.ForgetOldTriplets();
                }
                long idleSince = Environment.TickCount64 - (long)_settings.Timeout.TotalMilliseconds;
                foreach (SinkSession session in _sessions.Keys)
                {
                    if (session.LastActive < idleSince)
                    {
                        session.Abort();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The sink is stopping.
        }
    }

    /// <summary>The counts as the meter "Edge"'s instruments, read when scraped (nothing is added to the sessions' work).</summary>
    private static Meter Instruments(SinkStats stats)
    {
        var meter = new Meter(EdgeMetrics.MeterName);
        meter.CreateObservableCounter("edge.sink.sessions", () => stats.Sessions, "{session}", "Connections the sink took");
        meter.CreateObservableUpDownCounter("edge.sink.sessions.open", () => stats.Open, "{session}", "Connections open now");
        meter.CreateObservableCounter("edge.sink.sessions.ended", () => new[]
        {
            new Measurement<long>(stats.Lost, new KeyValuePair<string, object?>("how", "lost")),
            new Measurement<long>(stats.Dropped, new KeyValuePair<string, object?>("how", "dropped")),
        }, "{session}", "Connections that ended before QUIT: the client's doing (lost) or --disconnect's (dropped)");
        meter.CreateObservableCounter("edge.sink.messages", () => new[]
        {
            new Measurement<long>(stats.Messages, new KeyValuePair<string, object?>("result", "accepted")),
            new Measurement<long>(stats.Refused, new KeyValuePair<string, object?>("result", "refused")),
        }, "{message}", "Messages at the end of their content");
        meter.CreateObservableCounter("edge.sink.recipients", () => stats.Recipients, "{recipient}", "Recipients of the accepted messages");
        meter.CreateObservableCounter("edge.sink.content", () => stats.Bytes, "By", "Content of the accepted messages");
        meter.CreateObservableCounter("edge.sink.replies", () => stats.Replies()
            .Select(r => new Measurement<long>(r.Count, new KeyValuePair<string, object?>("code", r.Code))), "{reply}", "Replies by code");
        meter.CreateObservableGauge("edge.sink.latency", () => SinkStats.Stages.SelectMany((stage, i) => Quantiles(stage, stats.Latency[i])), "s",
            "From a command (the connection, the end of the content) to its reply, delays included, by stage and quantile");
        return meter;
    }

    private static IEnumerable<Measurement<double>> Quantiles(string stage, LatencyHistogram histogram)
    {
        if (histogram.Count == 0)
        {
            yield break;
        }
        foreach (double quantile in new[] { 0.5, 0.9, 0.99, 1 })
        {
            TimeSpan value = quantile < 1 ? histogram.Percentile(quantile) : histogram.Max;
            yield return new Measurement<double>(value.TotalSeconds, new KeyValuePair<string, object?>("stage", stage),
                new KeyValuePair<string, object?>("quantile", quantile));
        }
    }

    /// <summary>Stops taking connections, ends those open (their summary was given), and the metrics endpoint.</summary>
    public async ValueTask DisposeAsync()
    {
        await _watching.CancelAsync();
        await _watchdog;
        _listener.Dispose();
        await _accepting;
        foreach (SinkSession session in _sessions.Keys)
        {
            session.Abort();
        }
        for (int i = 0; i < 100 && !_sessions.IsEmpty; i++)
        {
            await Task.Delay(20);
        }
        if (_metrics is not null)
        {
            await _metrics.StopAsync();
            await _metrics.DisposeAsync();
        }
        _meter?.Dispose();
        _watching.Dispose();
    }
}
