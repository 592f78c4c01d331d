using System.Net.Sockets;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>
/// smtpd_proxy_filter, before the queue (SMTPD_PROXY_README): the listener hands each transaction to the filter as
/// it happens, and the client's reply to the end of the data is the filter's, which has re-injected the message into
/// an after-filter listener (or refused it). Nothing is queued by the listener itself, so nothing is queued twice.
/// </summary>
public class ProxyFilterTests
{
    /// <summary>The listener with the proxy filter, and the after-filter listener the filter re-injects into.</summary>
    private static Task<EdgeInstance> StartAsync(TempDirectory directory, int filterPort, int reinjectPort, string mainCf = "") =>
        EdgeInstance.StartAsync($"smtpd_proxy_timeout = 5s\n{mainCf}", $"-o smtpd_proxy_filter=127.0.0.1:{filterPort}\n" +
            $"127.0.0.1:{reinjectPort} inet n - n - - smtpd", reuse: directory);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_client_gets_the_filters_reply_and_the_message_is_queued_once_by_the_after_filter_listener(bool bdat)
    {
        int reinjectPort = FreePorts.Tcp();
        await using var filter = new ReinjectingFilter(reinjectPort);
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory, filter.Port, reinjectPort);
        // DATA content is dot-stuffed by the client; BDAT content is not.
        string reply = await edge.SendAsync($"Subject: through the proxy\r\n\r\n{(bdat ? "." : "..")}leading dot\r\nbody\r\n", bdat, "user@edge.test");
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply);
        var message = Assert.Single(await edge.QueuedAsync());
        Assert.Equal(reply.Split(' ')[^1], message.Id.ToString());
        string stored = await edge.SingleMessageContentAsync();
        // The filter saw Edge's own Received: header, then the message, dots intact.
        Assert.Matches(@"^Received: from filter\.test \(localhost \[127\.0\.0\.1\]\)\r\n(.*\r\n)*X-Filtered: by the test filter\r\nReceived: from client\.example \(localhost \[127\.0\.0\.1\]\)", stored);
        Assert.EndsWith("\r\nSubject: through the proxy\r\n\r\n.leading dot\r\nbody\r\n", stored);
        Assert.Equal(1, filter.Filtered);
        // The filter was told who the client is (it offers XFORWARD), and got the client's envelope.
        string[] commands = [.. filter.Commands];
        Assert.Equal("EHLO mx.edge.test", commands[0]);
        Assert.Matches(@"^XFORWARD NAME=localhost ADDR=127\.0\.0\.1 PORT=\d+ PROTO=ESMTP HELO=client\.example SOURCE=REMOTE$", commands[1]);
        Assert.Equal(["MAIL FROM:<sender@example.org>", "RCPT TO:<user@edge.test>"], commands[2..4]);
    }

    [Fact]
    public async Task A_message_the_filter_refuses_gets_its_reply_and_nothing_is_queued()
    {
        int reinjectPort = FreePorts.Tcp();
        await using var filter = new ReinjectingFilter(reinjectPort) { Verdict = content => content.Contains("spam") ? "554 5.7.1 rejected by the test filter" : null };
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory, filter.Port, reinjectPort);
        Assert.Equal("554 5.7.1 rejected by the test filter", await edge.SendAsync("Subject: spam\r\n\r\nspam\r\n", bdat: false, "user@edge.test"));
        Assert.Empty(await edge.QueuedAsync());
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync("Subject: ham\r\n\r\nham\r\n", bdat: false, "user@edge.test"));
        Assert.Single(await edge.QueuedAsync());
    }

    /// <summary>A filter that accepts the connection and then says nothing is given up after smtpd_proxy_timeout.</summary>
    [Fact]
    public async Task A_silent_filter_is_given_up_after_smtpd_proxy_timeout()
    {
        await using var silent = new SilentServer();
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync("smtpd_proxy_timeout = 1s", $"-o smtpd_proxy_filter=127.0.0.1:{silent.Port}", reuse: directory);
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("451 4.3.0 Error: queue file write error", await c.CommandAsync("RCPT TO:<user@edge.test>"));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
    }

    /// <summary>Accepts connections and never says a word.</summary>
    private sealed class SilentServer : LoopbackServer
    {
        protected override async Task ServeAsync(System.Net.Sockets.TcpClient client)
        {
            using (client)
            {
                await Task.Delay(Timeout.Infinite, Stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    [Fact]
    public async Task A_filter_that_is_down_gets_the_client_451_and_nothing_is_queued()
    {
        int reinjectPort = FreePorts.Tcp();
        using var directory = new TempDirectory();
        using Socket down = FreePorts.Refusing();
        await using var edge = await StartAsync(directory, down.Port(), reinjectPort);
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("451 4.3.0 Error: queue file write error", await c.CommandAsync("RCPT TO:<user@edge.test>"));
        Assert.StartsWith("554 5.5.1", await c.CommandAsync("DATA"));
        Assert.Empty(await edge.QueuedAsync());
    }

    private static Task<EdgeInstance> StartSpeedAdjustedAsync(TempDirectory directory, int filterPort, int reinjectPort) =>
        StartAsync(directory, filterPort, reinjectPort, "smtpd_proxy_options = speed_adjust");

    /// <summary>
    /// smtpd_proxy_options = speed_adjust: the filter hears nothing until the whole message has arrived (the content
    /// waits in a file of the queue directory that is already unlinked); then the transaction is replayed to it, and its
    /// reply is the client's.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task With_speed_adjust_the_filter_is_connected_only_once_the_message_has_arrived(bool bdat)
    {
        int reinjectPort = FreePorts.Tcp();
        await using var filter = new ReinjectingFilter(reinjectPort);
        using var directory = new TempDirectory();
        await using var edge = await StartSpeedAdjustedAsync(directory, filter.Port, reinjectPort);
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org> SIZE=100"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<user@edge.test> NOTIFY=FAILURE"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<other@edge.test>"));
        string reply;
        if (bdat)
        {
            Assert.StartsWith("250 2.0.0", await c.BdatAsync("Subject: adjusted\r\n\r\n"));
            Assert.Empty(filter.Commands);
            Assert.Empty(Directory.GetFiles(edge.QueueDirectory, "speed-adjust.*"));
            reply = await c.BdatAsync(".leading dot\r\n", last: true);
        }
        else
        {
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            await c.SendAsync("Subject: adjusted\r\n\r\n");
            Assert.Empty(filter.Commands);
            Assert.Empty(Directory.GetFiles(edge.QueueDirectory, "speed-adjust.*"));
            reply = await c.CommandAsync("..leading dot\r\n.");
        }
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply);
        Assert.Equal(1, filter.Filtered);
        Assert.EndsWith("\r\nSubject: adjusted\r\n\r\n.leading dot\r\n", await edge.SingleMessageContentAsync());
        string[] commands = [.. filter.Commands];
        Assert.Equal("EHLO mx.edge.test", commands[0]);
        Assert.StartsWith("XFORWARD NAME=localhost ADDR=127.0.0.1 ", commands[1]);
        Assert.Equal(["MAIL FROM:<sender@example.org> SIZE=100", "RCPT TO:<user@edge.test> NOTIFY=FAILURE", "RCPT TO:<other@edge.test>", "DATA"], commands[2..6]);
    }

    /// <summary>With speed_adjust a filter's refusal comes at the end of the data: its first refusal is the client's reply, and nothing is queued.</summary>
    [Fact]
    public async Task With_speed_adjust_the_filters_refusal_of_the_recipients_is_the_reply_to_the_end_of_the_data()
    {
        int reinjectPort = FreePorts.Tcp();
        await using var filter = new ReinjectingFilter(reinjectPort) { RecipientVerdict = _ => "550 5.1.1 unknown in the filter" };
        using var directory = new TempDirectory();
        await using var edge = await StartSpeedAdjustedAsync(directory, filter.Port, reinjectPort);
        Assert.Equal("550 5.1.1 unknown in the filter", await edge.SendAsync("Subject: x\r\n\r\nx\r\n", bdat: false, "user@edge.test"));
        Assert.Empty(await edge.QueuedAsync());
        Assert.DoesNotContain("DATA", filter.Commands);
    }

    /// <summary>With speed_adjust a filter that is down is found out at the end of the data: 451, and nothing is queued.</summary>
    [Fact]
    public async Task With_speed_adjust_a_filter_that_is_down_gets_the_client_451_at_the_end_of_the_data()
    {
        using var directory = new TempDirectory();
        using Socket down = FreePorts.Refusing();
        await using var edge = await StartSpeedAdjustedAsync(directory, down.Port(), FreePorts.Tcp());
        Assert.Equal("451 4.3.0 Error: queue file write error", await edge.SendAsync("Subject: x\r\n\r\nx\r\n", bdat: true, "user@edge.test"));
        Assert.Empty(await edge.QueuedAsync());
        Assert.Empty(Directory.GetFiles(edge.QueueDirectory, "speed-adjust.*"));
    }

    [Fact]
    public async Task An_unknown_smtpd_proxy_option_stops_start_up_naming_it()
    {
        using var directory = new TempDirectory();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => EdgeInstance.StartAsync("smtpd_proxy_options = speed_adjust, turbo",
            "-o smtpd_proxy_filter=127.0.0.1:10024", reuse: directory));
        Assert.Contains("smtpd_proxy_options", error.Message);
        Assert.Contains("unknown option \"turbo\"", error.Message);
    }
}
