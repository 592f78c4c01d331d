using System.Net;
using System.Net.Sockets;
using System.Text;
using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// check_policy_service with a real policy server (Debian's postgrey) over TCP and a Unix socket, and with
/// servers that fail: the defaults Postfix applies, and the DEFER_IF_PERMIT and PREPEND actions postgrey uses.
/// </summary>
public class PolicyServiceTests
{
    /// <summary>Not postmaster: postgrey's own whitelist lets postmaster@ and abuse@ through.</summary>
    private static async Task<string> RcptAsync(SmtpConnection c, string recipient = "user@edge.test")
    {
        await c.CommandAsync("RSET");
        Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    /// <summary>Postgrey answers with enhanced code 4.2.0 (not 4.7.1) when the request has etrn_domain, as Postfix's and Edge's do.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Postgrey_defers_a_new_triplet_and_passes_the_retry_with_its_header_first(bool unixSocket)
    {
        await using var postgrey = await Postgrey.StartAsync(unixSocket, "--delay=1");
        await using var edge = await EdgeInstance.StartAsync($"smtpd_recipient_restrictions = check_policy_service {postgrey.Address}");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("450 4.2.0 <user@edge.test>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/edge.test.html",
            await RcptAsync(c));
        await Task.Delay(2500);
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(c));
        Assert.StartsWith("354 ", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: greylisted\r\n\r\nbody\r\n."));
        string content = await edge.SingleMessageContentAsync();
        Assert.Matches(@"^X-Greylist: delayed \d+ seconds by postgrey-[\d.]+ at [^;]+; .+\r\nReceived: from client\.example", content);
    }

    [Fact]
    public async Task A_later_reject_wins_over_a_defer_if_permit()
    {
        await using var postgrey = await Postgrey.StartAsync(unixSocket: false, "--delay=60");
        await using var edge = await EdgeInstance.StartAsync($"""
            smtpd_recipient_restrictions = check_policy_service {postgrey.Address},
                check_recipient_access inline:{"{"} {"{"} refused@edge.test=REJECT not here {"}"} {"}"}
            """);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("554 5.7.1 <refused@edge.test>: Recipient address rejected: not here", await RcptAsync(c, "refused@edge.test"));
        Assert.StartsWith("450 4.2.0 <other@edge.test>: Recipient address rejected: Greylisted", await RcptAsync(c, "other@edge.test"));
    }

    [Fact]
    public async Task A_server_that_closes_after_each_answer_is_asked_again_on_a_new_connection()
    {
        // postgrey --exim closes the connection after every answer; Edge keeps connections, so the next request
        // finds its kept one closed and must not take that for a failure.
        await using var postgrey = await Postgrey.StartAsync(unixSocket: false, "--delay=60", "--exim");
        await using var edge = await EdgeInstance.StartAsync($"smtpd_recipient_restrictions = check_policy_service {postgrey.Address}");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        for (int i = 0; i < 3; i++)
        {
            Assert.StartsWith("450 4.2.0 <user@edge.test>: Recipient address rejected: Greylisted", await RcptAsync(c));
        }
    }

    [Theory]
    [InlineData("", "451 4.3.5 <user@edge.test>: Recipient address rejected: Server configuration problem")]
    [InlineData("smtpd_policy_service_default_action = DUNNO", "250 2.1.5 Ok")]
    public async Task A_server_that_is_not_there_gets_the_default_action_after_its_tries(string setting, string reply)
    {
        int port = ListeningPort.Free();
        await using var edge = await EdgeInstance.StartAsync($"""
            smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:{port}
            smtpd_policy_service_try_limit = 2
            smtpd_policy_service_retry_delay = 1s
            {setting}
            """);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal(reply, await RcptAsync(c));
    }

    [Theory]
    [InlineData("action=DUNNO\n")]
    [InlineData("something=else\n\n")]
    [InlineData("")]
    public async Task A_server_that_answers_wrongly_or_not_at_all_gets_the_default_action(string answer)
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        Task serving = ServeAsync(server, answer);
        await using var edge = await EdgeInstance.StartAsync($"""
            smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:{((IPEndPoint)server.LocalEndpoint).Port}
            smtpd_policy_service_timeout = 1s
            smtpd_policy_service_retry_delay = 1s
            """);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("451 4.3.5 <user@edge.test>: Recipient address rejected: Server configuration problem", await RcptAsync(c));
        server.Stop();
        await Assert.ThrowsAnyAsync<Exception>(() => serving);
    }

    /// <summary>A broken policy server: reads each request, writes <paramref name="answer"/>, keeps the connection open.</summary>
    private static async Task ServeAsync(TcpListener server, string answer)
    {
        var held = new List<TcpClient>();
        while (true)
        {
            TcpClient client = await server.AcceptTcpClientAsync();
            held.Add(client);
            NetworkStream stream = client.GetStream();
            byte[] buffer = new byte[4096];
            var request = new StringBuilder();
            while (!request.ToString().Contains("\n\n"))
            {
                int n = await stream.ReadAsync(buffer);
                if (n == 0)
                {
                    break;
                }
                request.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
            Assert.Contains("request=smtpd_access_policy\n", request.ToString());
            await stream.WriteAsync(Encoding.UTF8.GetBytes(answer));
        }
    }

    [Theory]
    [InlineData("smtpd_recipient_restrictions = check_policy_service", "\"check_policy_service\" needs a policy server after it")]
    [InlineData("smtpd_recipient_restrictions = check_policy_service inet:nowhere", "check_policy_service inet:nowhere: expected inet:host:port or unix:/path")]
    public async Task A_bad_service_stops_start_up(string line, string message)
    {
        using var directory = new TempDirectory();
        var e = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() => EdgeInstance.StartAsync(line, reuse: directory));
        Assert.Contains(message, e.Message);
    }
}
