using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Edge.Hosting;
using Edge.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Edge.Load;

/// <summary>
/// <c>edge sink</c> at run time: Kestrel listening as Edge's server does (the socket's own thread runs the session),
/// a watchdog that ends connections silent for smtpd_timeout, and, when edge_metrics_listen is set, the counts as
/// Prometheus metrics (edge_sink_*) on that endpoint.
/// </summary>
internal sealed class SinkServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SinkSettings _settings;
    private readonly ConcurrentDictionary<SinkSession, byte> _sessions;
    private readonly Meter? _meter;
    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly CancellationTokenSource _watching = new();
    private readonly Task _watchdog;

    private SinkServer(WebApplication app, SinkSettings settings, ConcurrentDictionary<SinkSession, byte> sessions, IPEndPoint endpoint, Meter? meter)
    {
        _app = app;
        _settings = settings;
        _sessions = sessions;
        Endpoint = endpoint;
        _meter = meter;
        _watchdog = WatchAsync(_watching.Token);
    }

    /// <summary>Where the sink listens (the port the system chose when port 0 was asked for).</summary>
    public IPEndPoint Endpoint { get; }

    public SinkStats Stats => _settings.Stats;

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    public static async Task<SinkServer> StartAsync(SinkSettings settings, CancellationToken cancellationToken)
    {
        IPEndPoint endpoint = await settings.EndpointAsync(cancellationToken);
        EndPoint? metrics = MetricsEndpoint.From(settings.Config, settings.Config.Get("queue_directory"));
        var sessions = new ConcurrentDictionary<SinkSession, byte>();
        WebApplicationBuilder builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseSockets(sockets =>
        {
            sockets.Backlog = 4096;
            // As Edge's server: the session runs on the socket's I/O thread (edge sink inlines the runtime's completions too).
            sockets.UnsafePreferInlineScheduling = true;
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(2));
        if (metrics is not null)
        {
            MetricsEndpoint.AddServices(builder.Services, scrape: true, otlp: null, TimeSpan.Zero);
        }
        ListenOptions? bound = null;
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(endpoint, listen =>
            {
                listen.Run(connection => ServeAsync(settings, sessions, connection));
                bound = listen;
            });
            if (metrics is not null)
            {
                MetricsEndpoint.Listen(kestrel, metrics);
            }
        });
        WebApplication app = builder.Build();
        Meter? meter = metrics is null ? null : Instruments(settings.Stats);
        if (metrics is not null)
        {
            MetricsEndpoint.Map(app, api: null);
        }
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException)
        {
            meter?.Dispose();
            await app.DisposeAsync();
            throw new IOException(e.Message.Replace("Failed to bind to address http://", "").TrimEnd('.'), e);
        }
        return new SinkServer(app, settings, sessions, bound!.IPEndPoint!, meter);
    }

    private static async Task ServeAsync(SinkSettings settings, ConcurrentDictionary<SinkSession, byte> sessions, ConnectionContext connection)
    {
        var session = new SinkSession(settings, connection);
        sessions[session] = 0;
        try
        {
            await session.RunAsync();
        }
        finally
        {
            sessions.TryRemove(session, out _);
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

    public async ValueTask DisposeAsync()
    {
        await _watching.CancelAsync();
        await _watchdog;
        await _app.StopAsync();
        await _app.DisposeAsync();
        _meter?.Dispose();
        _watching.Dispose();
    }
}
