using System.Net;
using System.Net.Sockets;
using Edge.Config;
using Edge.Metrics;
using Edge.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Edge.Hosting;

/// <summary>
/// edge_metrics_listen: an HTTP/1.1 endpoint beside the SMTP listeners, in the same Kestrel, where GET /metrics gives
/// the meter "Edge" in Prometheus' text format through OpenTelemetry's exporter (whose aggregation adds no allocation
/// to the code that counts). Every other path is 404.
/// </summary>
internal static class MetricsEndpoint
{
    /// <summary>Where the endpoint listens: an address and port, or unix:PATH (relative to queue_directory); null when off.</summary>
    public static EndPoint? From(MainConfig config, string queueDirectory)
    {
        string value = config.Get("edge_metrics_listen");
        if (value.Length == 0)
        {
            return null;
        }
        return ServiceEndpoint.Parse(value, queueDirectory) is { } endpoint and (IPEndPoint or UnixDomainSocketEndPoint)
            ? endpoint
            : throw config.Error("edge_metrics_listen", $"\"{value}\" is not address:port ([address]:port for IPv6) or unix:PATH");
    }

    public static void AddServices(IServiceCollection services) =>
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("edge"))
            .WithMetrics(metrics => metrics.AddMeter(EdgeMetrics.MeterName).AddPrometheusExporter(options =>
            {
                // Each scrape sees the figures of that moment.
                options.ScrapeResponseCacheDurationMilliseconds = 0;
                options.ScopeInfoEnabled = false;
            }));

    public static void Listen(KestrelServerOptions kestrel, EndPoint endpoint)
    {
        if (endpoint is UnixDomainSocketEndPoint unix)
        {
            string path = unix.ToString();
            File.Delete(path);
            kestrel.ListenUnixSocket(path, listen => listen.Protocols = HttpProtocols.Http1);
        }
        else
        {
            kestrel.Listen((IPEndPoint)endpoint, listen => listen.Protocols = HttpProtocols.Http1);
        }
    }

    public static void Map(WebApplication app)
    {
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Request.Path == "/metrics" && HttpMethods.IsGet(context.Request.Method));
        app.Run(context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }
}
