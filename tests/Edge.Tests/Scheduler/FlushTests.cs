using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>
/// defer_transports keeps a transport's mail queued until a flush; postqueue -s flushes one site of
/// fast_flush_domains, and postqueue -f everything.
/// </summary>
public class FlushTests
{
    private static TempDirectory Config(int sinkPort)
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + $$"""

            relay_domains = dialup.example, other.example
            fast_flush_domains = dialup.example
            transport_maps = inline:{ dialup.example=dialup:[127.0.0.1]:{{sinkPort}}, other.example=smtp:[127.0.0.1]:{{sinkPort}} }
            defer_transports = dialup
            minimal_backoff_time = 1h
            """ + "\n");
        directory.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            dialup    unix  -       -       n       -       -       smtp
            """);
        return directory;
    }

    private static async Task<string> SendAsync(int port, string recipient)
    {
        await using var c = await SmtpConnection.OpenAsync(port);
        await c.EnvelopeAsync("sender@example.org", recipient);
        await c.CommandAsync("DATA");
        return (await c.CommandAsync($"Subject: to {recipient}\r\n\r\nbody\r\n.")).Split(' ')[^1];
    }

    private static Task<(int Exit, string Out, string Error)> Edge(TempDirectory config, params string[] args) =>
        EdgeProcess.RunAsync(config.Path, [args[0], "-c", config.Path, .. args[1..]]);

    [Fact]
    public async Task A_deferred_transport_waits_for_postqueue_s_of_its_site()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var config = Config(sink.Port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string held = await SendAsync(edge.Port, "user@dialup.example");
        string other = await SendAsync(edge.Port, "user@other.example");

        await edge.WaitForLogAsync($@"{held}: to=<user@dialup\.example>, relay=none, .*dsn=4\.3\.2, status=deferred \(deferred transport\)");
        await edge.WaitForLogAsync($@"edge/smtp\[\d+\]: {other}: to=<user@other\.example>, .*status=sent");
        Assert.Contains("(deferred transport)", (await Edge(config, "postqueue", "-p")).Out);

        var refused = await Edge(config, "postqueue", "-s", "other.example");
        Assert.Equal(1, refused.Exit);
        Assert.Contains("mail for other.example is not eligible for fast flush", refused.Error);

        Assert.Equal(0, (await Edge(config, "postqueue", "-s", "dialup.example")).Exit);
        await edge.WaitForLogAsync($@"edge/smtp\[\d+\]: {held}: to=<user@dialup\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{sink.Port}, .*status=sent");
        IReadOnlyList<string> dumps = await sink.DumpsAsync(2);
        Assert.Single(dumps, d => d.Contains("Subject: to user@dialup.example"));
        Assert.Equal("Mail queue is empty\n", (await Edge(config, "postqueue", "-p")).Out);
    }

    /// <summary>ETRN (RFC 1985) flushes a site of fast_flush_domains, as postqueue -s does; other sites get 459.</summary>
    [Fact]
    public async Task Etrn_flushes_its_site_over_smtp()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var config = Config(sink.Port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string held = await SendAsync(edge.Port, "user@dialup.example");
        await edge.WaitForLogAsync($@"{held}: to=<user@dialup\.example>, relay=none, .*status=deferred \(deferred transport\)");

        await using var c = await SmtpConnection.OpenAsync(edge.Port);
        Assert.Contains("250-ETRN", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("459 <other.example>: service unavailable", await c.CommandAsync("ETRN other.example"));
        await edge.WaitForLogAsync(@"warning: reject: ETRN other\.example\.\.\. from localhost\[127\.0\.0\.1\]");
        Assert.Equal("250 Queuing started", await c.CommandAsync("ETRN dialup.example"));
        await edge.WaitForLogAsync($@"{held}: to=<user@dialup\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{sink.Port}, .*status=sent");
    }

    [Fact]
    public async Task Postqueue_f_also_runs_the_deferred_transports()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var config = Config(sink.Port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string held = await SendAsync(edge.Port, "user@dialup.example");
        await edge.WaitForLogAsync($@"{held}: to=<user@dialup\.example>, relay=none, .*status=deferred \(deferred transport\)");

        Assert.Equal(0, (await Edge(config, "postqueue", "-f")).Exit);
        await edge.WaitForLogAsync($@"{held}: to=<user@dialup\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{sink.Port}, .*status=sent");
    }
}
