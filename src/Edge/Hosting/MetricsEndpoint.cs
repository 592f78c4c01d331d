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
/// to the code that counts), and where the admin API answers when edge_admin_api is on. Every other path is 404.
/// edge_metrics_otlp_endpoint pushes the same figures over OTLP.
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

    /// <summary>edge_metrics_otlp_endpoint: an http:// or https:// URL; null when off.</summary>
    public static Uri? OtlpFrom(MainConfig config)
    {
        string value = config.Get("edge_metrics_otlp_endpoint");
        if (value.Length == 0)
        {
            return null;
        }
        return Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw config.Error("edge_metrics_otlp_endpoint", $"\"{value}\" is not an http:// or https:// URL (an OTLP/HTTP collector, such as http://127.0.0.1:4318)");
    }

    /// <summary>OpenTelemetry's metrics, with the exporters asked for: the scrape endpoint, an OTLP push, or both.</summary>
    public static void AddServices(IServiceCollection services, bool scrape, Uri? otlp, TimeSpan otlpInterval) =>
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("edge"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(EdgeMetrics.MeterName);
                if (scrape)
                {
                    metrics.AddPrometheusExporter(options =>
                    {
                        // Each scrape sees the figures of that moment.
                        options.ScrapeResponseCacheDurationMilliseconds = 0;
                        options.ScopeInfoEnabled = false;
                    });
                }
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter((exporter, reader) =>
                    {
                        exporter.Protocol = OpenTelemetry.Exporter.OtlpExportProtocol.HttpProtobuf;
                        exporter.Endpoint = new Uri(otlp, otlp.AbsolutePath.TrimEnd('/') + "/v1/metrics");
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)otlpInterval.TotalMilliseconds;
                    });
                }
            });

    public static void Listen(KestrelServerOptions kestrel, EndPoint endpoint)
    {
        if (endpoint is UnixDomainSocketEndPoint unix)
        {
            string path = unix.ToString();
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Delete(path);
            kestrel.ListenUnixSocket(path, listen => listen.Protocols = HttpProtocols.Http1);
        }
        else
        {
            kestrel.Listen((IPEndPoint)endpoint, listen => listen.Protocols = HttpProtocols.Http1);
        }
    }

    /// <summary>
    /// edge_admin_api: its token (null: none asked for), or the configuration error. The API needs the endpoint, and
    /// one that others than this host can reach needs a token.
    /// </summary>
    public static byte[]? AdminToken(MainConfig config, EndPoint? endpoint)
    {
        string file = config.Get("edge_admin_token_file");
        if (endpoint is null)
        {
            throw config.Error("edge_admin_api", "the admin API answers on edge_metrics_listen, which is empty");
        }
        if (file.Length == 0)
        {
            return endpoint is IPEndPoint ip && !IPAddress.IsLoopback(ip.Address)
                ? throw config.Error("edge_admin_api", $"edge_metrics_listen ({ip}) is not a loopback address: set edge_admin_token_file, " +
                    "whose token clients must send")
                : null;
        }
        string token;
        try
        {
            token = File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw config.Error("edge_admin_token_file", $"cannot read {file}: {e.Message}");
        }
        return token.Length == 0 ? throw config.Error("edge_admin_token_file", $"{file} is empty") : System.Text.Encoding.UTF8.GetBytes(token);
    }

    public static void Map(WebApplication app, Admin.AdminApi? api)
    {
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Request.Path == "/metrics" && HttpMethods.IsGet(context.Request.Method));
        app.Run(async context =>
        {
            if (api is null || !await api.TryAnswerAsync(context))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
            }
        });
    }
}
