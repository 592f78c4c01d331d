using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Edge.Config;
using Edge.Tests.Support;

namespace Edge.Tests.Metrics;

/// <summary>edge_admin_api against a running server: the queue, one message, postsuper's actions, reload, flush, the probes and the token.</summary>
public class AdminApiTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<EdgeProcess> StartAsync(TempDirectory config, int port, string mainCf = "")
    {
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nedge_metrics_listen = 127.0.0.1:{port}\nedge_admin_api = yes\n{mainCf}\n");
        // No qmgr: the messages stay queued for the API to show and change.
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        return await EdgeProcess.StartAsync(config.Path, config.Path);
    }

    private static async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string url, string? token = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using HttpResponseMessage response = await Http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> QueueOneAsync(int smtpPort, string subject)
    {
        await using var c = await SmtpConnection.OpenAsync(smtpPort);
        await c.EnvelopeAsync();
        await c.CommandAsync("DATA");
        return (await c.CommandAsync($"Subject: {subject}\r\n\r\nbody\r\n.")).Split(' ')[^1];
    }

    [Fact]
    public async Task The_queue_is_listed_shown_held_released_requeued_and_deleted()
    {
        int port = FreePorts.Tcp();
        using var config = new TempDirectory();
        await using var edge = await StartAsync(config, port);
        string api = $"http://127.0.0.1:{port}/api";
        string first = await QueueOneAsync(edge.Port, "first");
        string second = await QueueOneAsync(edge.Port, "second");

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"http://127.0.0.1:{port}/health")).Status);
        Assert.Equal((HttpStatusCode.OK, "ok\n"), await SendAsync(HttpMethod.Get, $"http://127.0.0.1:{port}/ready"));

        Assert.Equal((HttpStatusCode.OK, """{"summary":"postsuper: Placed on hold: 1 message"}""" + "\n"),
            await SendAsync(HttpMethod.Post, $"{api}/queue/{first}/hold"));
        (HttpStatusCode status, string listing) = await SendAsync(HttpMethod.Get, $"{api}/queue");
        Assert.Equal(HttpStatusCode.OK, status);
        using (JsonDocument queue = JsonDocument.Parse(listing))
        {
            Dictionary<string, string> names = queue.RootElement.EnumerateArray()
                .ToDictionary(m => m.GetProperty("queue_id").GetString()!, m => m.GetProperty("queue_name").GetString()!);
            Assert.Equal(new Dictionary<string, string> { [first] = "hold", [second] = "incoming" }, names);
            JsonElement one = queue.RootElement.EnumerateArray().First(m => m.GetProperty("queue_id").GetString() == second);
            Assert.Equal("sender@example.org", one.GetProperty("sender").GetString());
            Assert.Equal("postmaster@localhost", one.GetProperty("recipients")[0].GetProperty("address").GetString());
        }
        await edge.WaitForLogAsync($@"postsuper\[\d+\]: {first}: placed on hold");

        (status, string message) = await SendAsync(HttpMethod.Get, $"{api}/queue/{second}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains($"*** MESSAGE CONTENTS {second} ***", message);
        Assert.Contains("Subject: second", message);

        Assert.Equal((HttpStatusCode.OK, """{"summary":"postsuper: Released from hold: 1 message"}""" + "\n"),
            await SendAsync(HttpMethod.Post, $"{api}/queue/{first}/release"));
        Assert.Equal((HttpStatusCode.OK, """{"summary":"postsuper: Requeued: 2 messages"}""" + "\n"),
            await SendAsync(HttpMethod.Post, $"{api}/queue/ALL/requeue"));
        Assert.Equal((HttpStatusCode.OK, """{"summary":"postsuper: Deleted: 1 message"}""" + "\n"),
            await SendAsync(HttpMethod.Post, $"{api}/queue/{first}/delete"));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"{api}/queue/{first}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Post, $"{api}/queue/{first}/hold")).Status);
        await edge.WaitForLogAsync($@"postsuper\[\d+\]: {first}: removed");
        // The deletion is on disk: postqueue, which asks the server, agrees.
        string mailq = (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out;
        Assert.DoesNotContain(first, mailq);
        Assert.Contains(second, mailq);

        Assert.Equal((HttpStatusCode.OK, """{"summary":"reloaded"}""" + "\n"), await SendAsync(HttpMethod.Post, $"{api}/reload"));
        Assert.Equal((HttpStatusCode.Conflict, """{"error":"no queue manager runs (master.cf has no qmgr)"}""" + "\n"),
            await SendAsync(HttpMethod.Post, $"{api}/flush"));
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, $"{api}/queue/{second}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, $"{api}/nothing")).Status);
    }

    [Fact]
    public async Task With_a_token_file_the_api_wants_the_token_and_the_probes_do_not()
    {
        int port = FreePorts.Tcp();
        using var config = new TempDirectory();
        config.Write("admin.token", "s3cret-token\n");
        await using var edge = await StartAsync(config, port, $"edge_admin_token_file = {config.File("admin.token")}");
        string queue = $"http://127.0.0.1:{port}/api/queue";
        (HttpStatusCode status, string body) = await SendAsync(HttpMethod.Get, queue);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("a bearer token is needed (edge_admin_token_file)\n", body);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, queue, "wrong")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Post, $"http://127.0.0.1:{port}/api/reload")).Status);
        Assert.Equal((HttpStatusCode.OK, "[]\n"), await SendAsync(HttpMethod.Get, queue, "s3cret-token"));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"http://127.0.0.1:{port}/ready")).Status);
        // The refused reload did not happen; the one with the token did.
        Assert.DoesNotContain(edge.Log, line => line.Contains("reload -- configuration", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, $"http://127.0.0.1:{port}/api/reload", "s3cret-token")).Status);
        await edge.WaitForLogAsync(@"master\[\d+\]: reload -- configuration ");
    }

    [Fact]
    public async Task On_a_unix_socket_below_the_queue_directory_the_api_needs_no_token()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\nedge_metrics_listen = unix:private/edge-http\nedge_admin_api = yes\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string socket = Path.Combine(config.Path, "var", "private", "edge-http");
        using var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var unix = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
                    System.Net.Sockets.ProtocolType.Unspecified);
                await unix.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socket), cancellationToken);
                return new System.Net.Sockets.NetworkStream(unix, ownsSocket: true);
            },
        });
        Assert.Equal("[]\n", await http.GetStringAsync("http://edge/api/queue"));
        await using (await SmtpConnection.OpenAsync(edge.Port))
        {
        }
        Assert.Contains("edge_smtpd_connections_total", await http.GetStringAsync("http://edge/metrics"));
    }

    [Fact]
    public async Task An_api_others_could_reach_without_a_token_or_without_an_endpoint_does_not_start()
    {
        using var config = new TempDirectory();
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nedge_metrics_listen = 0.0.0.0:{FreePorts.Tcp()}\nedge_admin_api = yes\n");
        var e = await Assert.ThrowsAsync<ConfigException>(() => Hosting.EdgeServer.StartAsync(config.Path));
        Assert.Matches(@"main\.cf, line 7: parameter edge_admin_api: edge_metrics_listen \(0\.0\.0\.0:\d+\) is not a loopback address: " +
            "set edge_admin_token_file, whose token clients must send$", e.Message);
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\nedge_admin_api = yes\n");
        e = await Assert.ThrowsAsync<ConfigException>(() => Hosting.EdgeServer.StartAsync(config.Path));
        Assert.EndsWith("main.cf, line 6: parameter edge_admin_api: the admin API answers on edge_metrics_listen, which is empty", e.Message);
    }
}
