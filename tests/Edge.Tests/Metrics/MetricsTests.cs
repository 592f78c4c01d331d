using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Edge.Config;
using Edge.Tests.Delivery;
using Edge.Tests.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Metrics;

/// <summary>
/// edge_metrics_listen: Prometheus scrapes GET /metrics while mail flows, and what it reads agrees with the replies the
/// clients got and with the log; Prometheus' own promtool accepts the page.
/// </summary>
public class MetricsTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The sum of the series named <paramref name="name"/> that have every label given ("name{a="b"} 12").</summary>
    private static double Sum(string page, string name, params (string Label, string Value)[] labels)
    {
        double sum = 0;
        foreach (string line in page.Split('\n'))
        {
            Match m = Regex.Match(line, @"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$");
            if (m.Success && m.Groups[1].Value == name
                && labels.All(l => m.Groups[2].Value.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                sum += double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            }
        }
        return sum;
    }

    private static Task<string> ScrapeAsync(int port) => Http.GetStringAsync($"http://127.0.0.1:{port}/metrics");

    private static int Count(EdgeProcess edge, string pattern) => edge.Log.Count(line => Regex.IsMatch(line, pattern));

    /// <summary>
    /// A server process of its own with <paramref name="mainCf"/>: the figures are the process's, so servers other
    /// tests run in the test process cannot add to them.
    /// </summary>
    private static async Task<EdgeProcess> StartAsync(TempDirectory config, string mainCf)
    {
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\n" + mainCf + "\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        return await EdgeProcess.StartAsync(config.Path, config.Path);
    }

    [Fact]
    public async Task A_scrape_during_a_load_moves_and_agrees_with_the_replies_and_the_log()
    {
        await using var sink = await SmtpSink.StartAsync();
        int metricsPort = FreePorts.Tcp();
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $$"""

            relay_domains = sink.example
            mynetworks = 192.0.2.0/24
            transport_maps = inline:{ sink.example=smtp:[127.0.0.1]:{{sink.Port}} }
            edge_metrics_listen = 127.0.0.1:{{metricsPort}}
            """ + "\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);

        const int Clients = 8, Messages = 40;
        int queued = 0, refused = 0;
        string? unexpected = null;
        async Task ClientAsync(int client)
        {
            await using var c = await SmtpConnection.OpenAsync(edge.Port);
            await c.CommandAsync("EHLO load.example");
            for (int i = 0; i < Messages; i++)
            {
                await c.CommandAsync("MAIL FROM:<load@example.org>");
                // A relay attempt: the default smtpd_relay_restrictions' defer_unauth_destination decides.
                string relay = await c.CommandAsync("RCPT TO:<someone@elsewhere.example>");
                if (relay == "454 4.7.1 <someone@elsewhere.example>: Relay access denied")
                {
                    Interlocked.Increment(ref refused);
                }
                else
                {
                    unexpected = relay;
                }
                await c.CommandAsync($"RCPT TO:<user{client}@sink.example>");
                await c.CommandAsync("DATA");
                if ((await c.CommandAsync($"Subject: {client}/{i}\r\n\r\nload\r\n.")).StartsWith("250 2.0.0 Ok: queued as ", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref queued);
                }
            }
            await c.CommandAsync("QUIT");
        }
        Task load = Task.WhenAll(Enumerable.Range(0, Clients).Select(ClientAsync));

        // While the clients send, the figures grow.
        double during = 0;
        while (!load.IsCompleted && during == 0)
        {
            during = Sum(await ScrapeAsync(metricsPort), "edge_messages_queued_total");
            await Task.Delay(50);
        }
        await load;
        Assert.Equal(Clients * Messages, queued);
        Assert.Null(unexpected);
        Assert.Equal(Clients * Messages, refused);
        // A session's commands are counted when it ends, just before its disconnect line.
        await edge.WaitForLogLinesAsync(@"smtpd\[\d+\]: disconnect from", Clients);
        string page = await ScrapeAsync(metricsPort);
        Assert.InRange(during, 1, queued - 1);

        Assert.Equal(queued, Sum(page, "edge_messages_queued_total", ("protocol", "ESMTP")));
        const string Active = @"qmgr\[\d+\]: [0-9A-Za-z]+: from=<load@example\.org>, size=\d+, nrcpt=1 \(queue active\)";
        await edge.WaitForLogLinesAsync(Active, queued);
        Assert.Equal(queued, Count(edge, Active));
        Assert.True(Sum(page, "edge_messages_queued_size_bytes_total") > queued * 20);
        Assert.Equal(refused, Sum(page, "edge_smtpd_rejects_total",
            ("stage", "RCPT"), ("class", "4xx"), ("restriction", "defer_unauth_destination")));
        const string Refused = @"NOQUEUE: reject: RCPT from .*: 454 4\.7\.1 <someone@elsewhere\.example>: Relay access denied";
        await edge.WaitForLogLinesAsync(Refused, refused);
        Assert.Equal(refused, Count(edge, Refused));
        Assert.Equal(Clients * Messages, Sum(page, "edge_smtpd_commands_total", ("command", "mail"), ("result", "ok")));
        Assert.Equal(Clients * Messages, Sum(page, "edge_smtpd_commands_total", ("command", "rcpt"), ("result", "failed")));
        Assert.Equal(Clients, Sum(page, "edge_smtpd_connections_total"));
        // Each client: the greeting, EHLO and QUIT, and per message MAIL, RCPT and the end of data (2xx), DATA (3xx) and the relay refusal (4xx).
        Assert.Equal(Clients * (3 + 3 * Messages), Sum(page, "edge_smtpd_replies_total", ("class", "2xx")));
        Assert.Equal(Clients * Messages, Sum(page, "edge_smtpd_replies_total", ("class", "3xx")));
        Assert.Equal(refused, Sum(page, "edge_smtpd_replies_total", ("class", "4xx")));
        Assert.Equal(0, Sum(page, "edge_smtpd_replies_total", ("class", "5xx")));
        Assert.True(Sum(page, "edge_queue_commit_duration_seconds_count") >= 1);
        Assert.True(Sum(page, "edge_queue_commit_batch_sum") >= queued);

        // Every message reaches the sink: the delivery figures follow the status=sent lines.
        for (int i = 0; i < 600 && (Sum(page, "edge_delivery_recipients_total", ("transport", "smtp"), ("status", "sent")) < queued
            || Sum(page, "edge_delivery_duration_seconds_count", ("transport", "smtp")) < queued); i++)
        {
            await Task.Delay(100);
            page = await ScrapeAsync(metricsPort);
        }
        Assert.Equal(queued, Sum(page, "edge_delivery_recipients_total", ("transport", "smtp"), ("class", "relay"), ("status", "sent")));
        const string Sent = @"smtp\[\d+\]: [0-9A-Za-z]+: to=<user\d@sink\.example>, relay=127\.0\.0\.1.*status=sent";
        await edge.WaitForLogLinesAsync(Sent, queued);
        Assert.Equal(queued, Count(edge, Sent));
        Assert.Equal(queued, Sum(page, "edge_delivery_duration_seconds_count", ("transport", "smtp")));
        // A message leaves the queue once its last status is on disk, a moment after the status is counted.
        for (int i = 0; i < 100 && Sum(page, "edge_queue_messages") + Sum(page, "edge_smtpd_connections_open") > 0; i++)
        {
            await Task.Delay(100);
            page = await ScrapeAsync(metricsPort);
        }
        Assert.Equal(0, Sum(page, "edge_queue_messages"));
        // One destination, alive, with its window open at least as wide as initial_destination_concurrency.
        Assert.Equal(1, Sum(page, "edge_delivery_destinations", ("transport", "smtp"), ("state", "alive")));
        Assert.True(Sum(page, "edge_delivery_window", ("transport", "smtp")) >= 5);
        Assert.Equal(0, Sum(page, "edge_smtpd_connections_open"));

        (int exit, string output) = await PromtoolAsync(page);
        Assert.True(exit == 0, output);
    }

    private static async Task<(int Exit, string Output)> PromtoolAsync(string page)
    {
        using var file = new TempDirectory();
        file.Write("metrics.txt", page);
        // promtool reads the page on its standard input.
        return await Peer.RunAsync("sh", "dash", "-c", $"promtool check metrics < {file.File("metrics.txt")}");
    }

    [Fact]
    public async Task Policy_answers_and_dns_lookups_are_counted_with_their_time()
    {
        using Dnsmasq dns = await Dnsmasq.StartAsync(["--host-record=client.example.test,192.0.2.10"]);
        int metricsPort = FreePorts.Tcp();
        using var directory = new TempDirectory();
        directory.Write("policy.js", "function policy(r) { return r.recipient.startsWith('no') ? 'REJECT not here' : 'DUNNO'; }");
        await using var edge = await StartAsync(directory, $"""
            edge_metrics_listen = 127.0.0.1:{metricsPort}
            edge_dns_servers = {dns.EndPoint}
            smtpd_helo_required = yes
            smtpd_helo_restrictions = reject_unknown_helo_hostname
            smtpd_recipient_restrictions = check_policy_script {directory.File("policy.js")}
            """);
        for (int session = 0; session < 2; session++)
        {
            await using var c = await SmtpConnection.OpenAsync(edge.Port);
            await c.CommandAsync("EHLO client.example.test");
            await c.CommandAsync("MAIL FROM:<a@example.org>");
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<postmaster@localhost>"));
            Assert.StartsWith("554 5.7.1 <nobody@localhost>: Recipient address rejected: not here", await c.CommandAsync("RCPT TO:<nobody@localhost>"));
        }
        string page = await ScrapeAsync(metricsPort);
        string policy = directory.File("policy.js");
        Assert.Equal(2, Sum(page, "edge_policy_decisions_total", ("policy", policy), ("action", "DUNNO")));
        Assert.Equal(2, Sum(page, "edge_policy_decisions_total", ("policy", policy), ("action", "REJECT")));
        Assert.Equal(4, Sum(page, "edge_policy_duration_seconds_count", ("policy", policy)));
        Assert.Equal(2, Sum(page, "edge_smtpd_rejects_total", ("restriction", "check_policy_script"), ("table", policy)));
        // The HELO name's address: asked of the server once, then answered from the cache.
        Assert.Equal(1, Sum(page, "edge_dns_lookups_total", ("type", "A"), ("status", "ok"), ("source", "server")));
        Assert.True(Sum(page, "edge_dns_lookups_total", ("type", "A"), ("status", "ok"), ("source", "cache")) >= 1);
        Assert.True(Sum(page, "edge_dns_duration_seconds_count", ("type", "A")) >= 1);
        (int exit, string output) = await PromtoolAsync(page);
        Assert.True(exit == 0, output);
    }

    /// <summary>An OTLP/HTTP collector's side: the push arrives as protobuf at /v1/metrics, the instruments named in it.</summary>
    [Fact]
    public async Task The_metrics_are_pushed_over_otlp_at_the_interval()
    {
        int collectorPort = FreePorts.Tcp();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{collectorPort}/");
        collector.Start();
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory, $"edge_metrics_otlp_endpoint = http://127.0.0.1:{collectorPort}\nedge_metrics_otlp_interval = 1s");
        await using (await SmtpConnection.OpenAsync(edge.Port))
        {
        }
        string body = "";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!body.Contains("edge.smtpd.connections", StringComparison.Ordinal) && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            HttpListenerContext push = await collector.GetContextAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("POST", push.Request.HttpMethod);
            Assert.Equal("/v1/metrics", push.Request.Url!.AbsolutePath);
            Assert.Equal("application/x-protobuf", push.Request.ContentType);
            using var content = new MemoryStream();
            await push.Request.InputStream.CopyToAsync(content);
            body = System.Text.Encoding.Latin1.GetString(content.ToArray());
            push.Response.StatusCode = 200;
            push.Response.Close();
        }
        Assert.Contains("edge.smtpd.connections", body);
        Assert.Contains("service.name", body);
    }

    [Fact]
    public async Task Only_get_metrics_is_served_and_a_bad_address_is_refused_at_its_line()
    {
        int metricsPort = FreePorts.Tcp();
        using (var directory = new TempDirectory())
        await using (var edge = await StartAsync(directory, $"edge_metrics_listen = 127.0.0.1:{metricsPort}"))
        {
            using HttpResponseMessage other = await Http.GetAsync($"http://127.0.0.1:{metricsPort}/queue");
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
            using HttpResponseMessage post = await Http.PostAsync($"http://127.0.0.1:{metricsPort}/metrics", null);
            Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
            // An instrument is on the page from its first measurement.
            await using (await SmtpConnection.OpenAsync(edge.Port))
            {
            }
            Assert.Contains("# TYPE edge_smtpd_connections_total counter", await ScrapeAsync(metricsPort));
        }
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\nedge_metrics_listen = metrics.example:9025\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        var e = await Assert.ThrowsAsync<ConfigException>(() => Hosting.EdgeServer.StartAsync(config.Path));
        Assert.Equal($"{config.File("main.cf")}, line 6: parameter edge_metrics_listen: \"metrics.example:9025\" is not address:port " +
            "([address]:port for IPv6) or unix:PATH", e.Message);
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\nedge_metrics_otlp_endpoint = collector.example:4318\n");
        e = await Assert.ThrowsAsync<ConfigException>(() => Hosting.EdgeServer.StartAsync(config.Path));
        Assert.Equal($"{config.File("main.cf")}, line 6: parameter edge_metrics_otlp_endpoint: \"collector.example:4318\" is not an http:// or " +
            "https:// URL (an OTLP/HTTP collector, such as http://127.0.0.1:4318)", e.Message);
    }
}
