using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>
/// NOTIFY=SUCCESS: the sender hears of a delivery from Edge when Edge delivered finally, or relayed to a next
/// hop without DSN; a next hop that announces DSN gets the request passed on and reports itself.
/// </summary>
public class SuccessNoticeTests
{
    /// <summary>No "smtp" transport: the notices to sender@example.org stay queued for postcat to show.</summary>
    private static TempDirectory Config(int sinkPort = 9)
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + $$"""

            transport_maps = inline:{ final.example=discard:, remote.example=relay:[127.0.0.1]:{{sinkPort}} }
            """ + "\n");
        directory.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            relay     unix  -       -       n       -       -       smtp
            discard   unix  -       -       n       -       -       discard
            """);
        return directory;
    }

    private static Task<string> SendAsync(int port, string recipient, string notify) =>
        SmtpConnection.SendWithParametersAsync(port, "sender@example.org", "RET=FULL ENVID=E1", recipient, $"NOTIFY={notify}",
            "Subject: tracked\r\n\r\nthe original body");

    [Fact]
    public async Task A_final_delivery_with_NOTIFY_SUCCESS_gets_a_delivered_report_with_headers_only()
    {
        using var config = Config();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "a@final.example", "SUCCESS,FAILURE");
        string notice = await edge.NoticeAsync(config.Path, id, "sender delivery status");
        Assert.Contains("recipient: sender@example.org\n", notice);
        Assert.Contains("Subject: Successful Mail Delivery Report\r\n", notice);
        Assert.Contains("Original-Envelope-Id: E1\r\n", notice);
        Assert.Contains("Final-Recipient: rfc822; a@final.example\r\nAction: delivered\r\nStatus: 2.0.0\r\n", notice);
        Assert.Contains("Content-Type: text/rfc822-headers\r\n", notice);
        Assert.Contains("Subject: tracked\r\n", notice);
        // RET=FULL asks for the whole message on failure only.
        Assert.DoesNotContain("the original body", notice);
    }

    [Fact]
    public async Task No_success_report_without_NOTIFY_SUCCESS()
    {
        using var config = Config();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "a@final.example", "FAILURE");
        await edge.WaitForLogAsync($@"{id}: removed");
        Assert.DoesNotContain(edge.Log, line => line.Contains("notification"));
    }

    [Fact]
    public async Task Relaying_to_a_next_hop_without_DSN_reports_relayed()
    {
        await using var sink = await SmtpSink.StartAsync("-N");
        using var config = Config(sink.Port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "b@remote.example", "SUCCESS");
        string notice = await edge.NoticeAsync(config.Path, id, "sender delivery status");
        Assert.Contains("Final-Recipient: rfc822; b@remote.example\r\nAction: relayed\r\nStatus: 2.0.0\r\n", notice);
        Assert.Contains($"Remote-MTA: dns; 127.0.0.1[127.0.0.1]:{sink.Port}\r\n", notice);
    }

    [Fact]
    public async Task A_next_hop_with_DSN_gets_the_request_and_Edge_sends_no_report()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var config = Config(sink.Port);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "c@remote.example", "SUCCESS");
        await edge.WaitForLogAsync($@"{id}: to=<c@remote\.example>, .*status=sent");
        await edge.WaitForLogAsync($@"{id}: removed");
        Assert.DoesNotContain(edge.Log, line => line.Contains("notification"));
        string dump = Assert.Single(await sink.DumpsAsync(1));
        Assert.Contains("NOTIFY=SUCCESS", dump);
    }
}
