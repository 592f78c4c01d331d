using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Edge.Mail;
using Edge.Queue;
using Microsoft.AspNetCore.Http;

namespace Edge.Admin;

/// <summary>What the queue page shows besides the queue: the scheduler's destinations, the last minute's rates, the host's name.</summary>
internal sealed record QueueLive(Func<IReadOnlyList<DestinationRow>> Destinations, Func<RecentRates> Rates, string Hostname);

/// <summary>
/// The admin HTTP API (edge_admin_api = yes), on the metrics endpoint: the queue as JSON (postqueue -j's fields), one
/// message as postcat shows it, postsuper's hold, release, delete and requeue, postqueue's flush, reload, the
/// health and readiness probes, and the queue page (GET /queue, QueuePage). With edge_admin_token_file, every route but the probes wants "Authorization: Bearer
/// TOKEN". Changes answer with postsuper's summary; what is not queued is 404, a refusal 409 with the reason.
/// </summary>
internal sealed class AdminApi(QueueStore store, Func<string?> reload, Func<string?, Task<string?>> flush, Action wake,
    Func<bool> ready, byte[]? token, QueueLive live)
{
    private static readonly Dictionary<string, char> Operations = new(StringComparer.Ordinal)
    {
        ["hold"] = 'h', ["release"] = 'H', ["delete"] = 'd', ["requeue"] = 'r',
    };

    /// <summary>Answers the request when it is one of the API's; false for a path that is not.</summary>
    public async Task<bool> TryAnswerAsync(HttpContext context)
    {
        HttpRequest request = context.Request;
        string path = request.Path.Value ?? "";
        if (path is "/health" or "/ready")
        {
            // Liveness: the process answers. Readiness: listening, queue open, not shutting down.
            bool up = path == "/health" || ready();
            await TextAsync(context, up ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable, up ? "ok\n" : "not ready\n");
            return true;
        }
        if (!path.StartsWith("/api/", StringComparison.Ordinal) && path != "/queue")
        {
            return false;
        }
        if (!Authorized(request))
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await TextAsync(context, StatusCodes.Status401Unauthorized, "a bearer token is needed (edge_admin_token_file)\n");
            return true;
        }
        // Off the socket I/O thread: a listing reads the whole queue.
        await Task.Yield();
        if (path == "/queue")
        {
            await PageAsync(context);
            return true;
        }
        string[] parts = path[5..].Split('/');
        try
        {
            await ((HttpMethods.IsGet(request.Method), parts) switch
            {
                (true, ["queue"]) => QueueAsync(context),
                (true, ["queue", string id]) => MessageAsync(context, id),
                (false, ["queue", string target, string operation]) when HttpMethods.IsPost(request.Method) && Operations.ContainsKey(operation) =>
                    SuperAsync(context, target, Operations[operation]),
                (false, ["flush"]) when HttpMethods.IsPost(request.Method) => FlushAsync(context, request.Query["site"].FirstOrDefault()),
                (false, ["reload"]) when HttpMethods.IsPost(request.Method) => ReloadAsync(context),
                _ => JsonAsync(context, StatusCodes.Status404NotFound, "error", $"no such route: {request.Method} {path}"),
            });
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or IOException)
        {
            // A damaged record, or a change the disk did not take: said as postsuper and postcat say it.
            await JsonAsync(context, StatusCodes.Status500InternalServerError, "error", e.Message);
        }
        return true;
    }

    private bool Authorized(HttpRequest request)
    {
        if (token is null)
        {
            return true;
        }
        string given = request.Headers.Authorization.ToString();
        return given.StartsWith("Bearer ", StringComparison.Ordinal)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given[7..].Trim()), token);
    }

    private async Task QueueAsync(HttpContext context)
    {
        string lines = await QueueAdministration.JsonAsync(store, context.RequestAborted);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("[" + string.Join(",", lines.Split('\n', StringSplitOptions.RemoveEmptyEntries)) + "]\n", context.RequestAborted);
    }

    private async Task PageAsync(HttpContext context)
    {
        string page = QueuePage.Render(await store.ListAsync(context.RequestAborted), live.Destinations(), live.Rates(), live.Hostname, DateTimeOffset.UtcNow);
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(page, context.RequestAborted);
    }

    private async Task MessageAsync(HttpContext context, string id)
    {
        QueuedMessage? message = QueueId.TryParse(id, out QueueId? parsed) ? await store.FindAsync(parsed.Value, context.RequestAborted) : null;
        if (message is null)
        {
            await JsonAsync(context, StatusCodes.Status404NotFound, "error", $"no message with queue ID {id}");
            return;
        }
        context.Response.ContentType = "text/plain; charset=utf-8";
        await PostcatFormatter.WriteAsync(store, message, context.Response.Body, context.RequestAborted);
    }

    private async Task SuperAsync(HttpContext context, string target, char operation)
    {
        string? summary = await QueueAdministration.SuperAsync(store, operation, target, [], wake);
        await (summary is null
            ? JsonAsync(context, StatusCodes.Status404NotFound, "error", $"{target}: no such queue ID")
            : JsonAsync(context, StatusCodes.Status200OK, "summary", summary.TrimEnd('\n')));
    }

    private async Task FlushAsync(HttpContext context, string? site)
    {
        string? refused = await flush(site);
        await (refused is null
            ? JsonAsync(context, StatusCodes.Status200OK, "summary", site is null ? "flushed" : $"flushed {site}")
            : JsonAsync(context, StatusCodes.Status409Conflict, "error", refused));
    }

    private async Task ReloadAsync(HttpContext context)
    {
        string? failure = reload();
        await (failure is null
            ? JsonAsync(context, StatusCodes.Status200OK, "summary", "reloaded")
            : JsonAsync(context, StatusCodes.Status409Conflict, "error", $"reload failed, the running configuration stays in force: {failure}"));
    }

    private static async Task JsonAsync(HttpContext context, int status, string name, string value)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString(name, value);
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        await context.Response.Body.WriteAsync(buffer.ToArray(), context.RequestAborted);
    }

    private static async Task TextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(text, context.RequestAborted);
    }
}
