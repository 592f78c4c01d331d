using System.Text.Json;
using Edge.Cli;
using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Load;

/// <summary>
/// edge source against Postfix's smtp-sink and against Edge: what it reports agrees with what the server saw (messages,
/// sessions, replies by code), in each of its ways of sending (lock-step, PIPELINING, BDAT, STARTTLS, PROXY headers).
/// </summary>
public class SourceTests
{
    private static async Task<(int Exit, JsonElement Report)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        int exit = await SourceCommand.RunAsync([.. args, "--json"], output, CancellationToken.None);
        return (exit, JsonDocument.Parse(output.ToString()).RootElement);
    }

    private static long Reply(JsonElement report, int code) =>
        report.GetProperty("replies").TryGetProperty(code.ToString(System.Globalization.CultureInfo.InvariantCulture), out JsonElement count) ? count.GetInt64() : 0;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task What_it_reports_is_what_smtp_sink_received(bool pipelining)
    {
        await using var sink = await SmtpSink.StartAsync();
        string[] args = ["-s", "4", "-m", "20", "--per-session", "5", "-l", "2000", "-r", "2", "-t", "user{r}.{n}@sink.example", $"127.0.0.1:{sink.Port}"];
        (int exit, JsonElement report) = await RunAsync(pipelining ? [.. args, "--pipelining"] : args);

        Assert.Equal(0, exit);
        Assert.Equal(20, report.GetProperty("accepted").GetInt64());
        Assert.Equal(0, report.GetProperty("refused").GetInt64());
        Assert.Equal(4, report.GetProperty("sessions").GetInt64());
        Assert.Equal(0, report.GetProperty("session_errors").GetInt64());
        Assert.Equal(4, Reply(report, 220));
        Assert.Equal(20, Reply(report, 354));
        // EHLO, MAIL, two RCPTs and the end of the content for each message, and each QUIT's 221.
        Assert.Equal(4 + 20 * 4, Reply(report, 250));
        Assert.Equal(4, Reply(report, 221));
        Assert.Equal(40, report.GetProperty("latency_ms").GetProperty("rcpt").GetProperty("count").GetInt64());
        Assert.Equal(20, report.GetProperty("latency_ms").GetProperty("content").GetProperty("count").GetInt64());

        IReadOnlyList<string> dumps = await sink.DumpsAsync(20);
        Assert.Equal(20, dumps.Count);
        Assert.Contains(dumps, dump => dump.Contains("X-Rcpt-Args: <user2.7@sink.example>\n", StringComparison.Ordinal));
        Assert.All(dumps, dump => Assert.InRange(SmtpSink.MessageOf(dump).Replace("\n", "\r\n").Length, 1900, 2100));
    }

    /// <summary>--rate spaces the messages (the tenth of ten at 20 a second goes after 0.45 s); --duration stops the run.</summary>
    [Fact]
    public async Task Rate_and_duration_shape_the_run()
    {
        await using var sink = await SmtpSink.StartAsync();
        (int exit, JsonElement paced) = await RunAsync("-s", "3", "-m", "10", "--rate", "20", $"127.0.0.1:{sink.Port}");
        Assert.Equal(0, exit);
        Assert.Equal(10, paced.GetProperty("accepted").GetInt64());
        // The runtime's timers run on a coarse clock: a wait may end a few milliseconds early by the stopwatch.
        Assert.True(paced.GetProperty("elapsed_seconds").GetDouble() >= 0.43, paced.ToString());

        (exit, JsonElement timed) = await RunAsync("-s", "2", "--duration", "1", "--rate", "10", $"127.0.0.1:{sink.Port}");
        Assert.Equal(0, exit);
        Assert.InRange(timed.GetProperty("accepted").GetInt64(), 1, 11);
        Assert.Equal(timed.GetProperty("messages").GetInt64(), timed.GetProperty("sessions").GetInt64());
        Assert.True(timed.GetProperty("elapsed_seconds").GetDouble() >= 0.9, timed.ToString());
    }

    [Fact]
    public async Task Refusals_are_reported_by_their_code()
    {
        await using var sink = await SmtpSink.StartAsync("-r", "RCPT");
        (int exit, JsonElement report) = await RunAsync("-s", "2", "-m", "6", "--per-session", "3", $"127.0.0.1:{sink.Port}");

        Assert.Equal(1, exit);
        Assert.Equal(0, report.GetProperty("accepted").GetInt64());
        Assert.Equal(6, report.GetProperty("refused").GetInt64());
        Assert.Equal(6, Reply(report, 450));
        Assert.Equal(0, sink.DumpCount);
    }

    /// <summary>Against Edge: BDAT with PIPELINING, STARTTLS, and PROXY headers whose client addresses Edge queues.</summary>
    [Theory]
    [InlineData("--bdat", "--pipelining")]
    [InlineData("--starttls")]
    [InlineData("--proxy", "2")]
    [InlineData("--proxy", "1")]
    public async Task Edge_queues_what_it_sends(params string[] how)
    {
        using var certificates = new TempDirectory();
        bool proxy = how[0] == "--proxy";
        await using EdgeInstance edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(certificates) +
            (proxy ? "\nsmtpd_upstream_proxy_protocol = haproxy" : ""));
        (int exit, JsonElement report) = await RunAsync(
            ["-s", "1", "-m", "3", "-t", "user{n}@edge.test", "--proxy-from", "198.51.100.0/29", .. how, $"127.0.0.1:{edge.Port}"]);

        Assert.Equal(0, exit);
        Assert.Equal(3, report.GetProperty("accepted").GetInt64());
        var queued = (await edge.QueuedAsync()).OrderBy(m => m.Recipients[0].Address).ToList();
        Assert.Equal(["user1@edge.test", "user2@edge.test", "user3@edge.test"], queued.Select(m => m.Recipients[0].Address));
        JsonElement latency = report.GetProperty("latency_ms");
        switch (how[0])
        {
            case "--bdat":
                Assert.Equal(3, latency.GetProperty("bdat").GetProperty("count").GetInt64());
                Assert.False(latency.TryGetProperty("data", out _));
                break;
            case "--starttls":
                Assert.Equal(3, latency.GetProperty("starttls").GetProperty("count").GetInt64());
                Assert.All(queued, m => Assert.Equal("ESMTPS", m.Protocol));
                break;
            default:
                // One message per session: each session came from the next address of the block.
                Assert.Equal(["198.51.100.1", "198.51.100.2", "198.51.100.3"], queued.Select(m => m.ClientAddress).Order());
                break;
        }
    }

    /// <summary>
    /// Its connections end as smtp-source's do, with a reset once the reply to QUIT is read: neither side keeps them in
    /// TIME_WAIT (which costs both sides CPU a connection and would run a long run out of ports).
    /// </summary>
    [Fact]
    public async Task Connections_end_with_nothing_left_in_time_wait()
    {
        await using var sink = await SmtpSink.StartAsync();
        int before = ListeningPort.TimeWaits(sink.Port);
        (int exit, JsonElement report) = await RunAsync("-s", "4", "-m", "20", $"127.0.0.1:{sink.Port}");

        Assert.Equal(0, exit);
        Assert.Equal(20, Reply(report, 221));
        Assert.Equal(before, ListeningPort.TimeWaits(sink.Port));
    }

    [Theory]
    [InlineData(new[] { "127.0.0.1" }, "is not HOST:PORT")]
    [InlineData(new[] { "--threads", "0", "127.0.0.1:25" }, "--threads: \"0\" is not a number from 1 to 1024")]
    [InlineData(new[] { "-s", "none", "127.0.0.1:25" }, "--sessions: \"none\" is not a number")]
    [InlineData(new[] { "--proxy", "3", "127.0.0.1:25" }, "--proxy: \"3\" is not a number from 1 to 2")]
    [InlineData(new[] { "--wat", "127.0.0.1:25" }, "unexpected \"--wat\"")]
    public async Task Bad_options_are_named(string[] args, string message)
    {
        var error = await Assert.ThrowsAsync<UsageException>(() => SourceCommand.RunAsync(args, TextWriter.Null, CancellationToken.None));
        Assert.Contains(message, error.Message);
    }
}
