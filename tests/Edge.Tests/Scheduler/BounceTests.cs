using System.Text.RegularExpressions;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>Non-delivery notifications (RFC 3464) as bounce(8) sends them, and when none is sent.</summary>
public class BounceTests
{
    private static TempDirectory ConfigDirectory(string extra = "")
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + """

            transport_maps = inline:{ { error.example = error:5.1.1 no such user here }, slow.example=nowhere: }
            minimal_backoff_time = 1s
            maximal_backoff_time = 1s
            queue_run_delay = 1s
            """ + "\n" + extra + "\n");
        directory.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            error     unix  -       -       n       -       -       error
            """);
        return directory;
    }

    private static Task<string> SendAsync(int port, string sender, string recipient, string parameters = "", string rcptParameters = "") =>
        SmtpConnection.SendWithParametersAsync(port, sender, parameters, recipient, rcptParameters,
            "Subject: returned\r\nX-Test: yes\r\n\r\nthe original body");

    [Fact]
    public async Task A_bounced_recipient_gets_the_sender_a_delivery_status_notification()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "sender@example.org", "b@error.example", "ENVID=ENV+2B1 RET=FULL",
            "NOTIFY=FAILURE ORCPT=rfc822;b+40error.example");
        string notice = await edge.NoticeAsync(config.Path, id, "sender non-delivery");
        Assert.Contains("sender: \n", notice);
        Assert.Contains("recipient: sender@example.org\n", notice);
        Assert.Contains("From: MAILER-DAEMON@mx.edge.test (Mail Delivery System)\r\n", notice);
        Assert.Contains("Subject: Undelivered Mail Returned to Sender\r\n", notice);
        Assert.Matches("Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"", notice);
        Assert.Contains("<b@error.example>: no such user here\r\n", notice);
        Assert.Contains("Reporting-MTA: dns; mx.edge.test\r\n", notice);
        Assert.Contains($"X-Postfix-Queue-ID: {id}\r\n", notice);
        Assert.Contains("Original-Envelope-Id: ENV+1\r\n", notice);
        Assert.Contains("Final-Recipient: rfc822; b@error.example\r\nOriginal-Recipient: rfc822;b@error.example\r\nAction: failed\r\nStatus: 5.1.1\r\n", notice);
        Assert.Contains("Content-Type: message/rfc822\r\n", notice);
        Assert.Contains("the original body", notice);
        await edge.WaitForLogAsync($@"{id}: removed");
    }

    [Fact]
    public async Task Bounce_size_limit_cuts_the_returned_original_after_the_line_that_crosses_it()
    {
        using var config = ConfigDirectory("bounce_size_limit = 600");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string body = string.Concat(Enumerable.Range(1, 40).Select(i => $"body line {i:00}\r\n"));
        string id = await SmtpConnection.SendWithParametersAsync(edge.Port, "sender@example.org", "RET=FULL", "b@error.example", "",
            "Subject: long\r\n\r\n" + body);
        string notice = await edge.NoticeAsync(config.Path, id, "sender non-delivery");
        Assert.Contains("Content-Type: message/rfc822\r\n", notice);
        Assert.Contains("Subject: long\r\n", notice);
        Assert.Contains("body line 01\r\n", notice);
        Assert.DoesNotContain("body line 40", notice);
        Assert.Contains($"\r\n--{id}.", notice[notice.LastIndexOf("body line", StringComparison.Ordinal)..]);
    }

    [Fact]
    public async Task An_envid_with_control_characters_goes_back_as_it_was_sent()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "sender@example.org", "b@error.example", "ENVID=x+0D+0AForged:+20field");
        string notice = await edge.NoticeAsync(config.Path, id, "sender non-delivery");
        Assert.Contains("Original-Envelope-Id: x+0D+0AForged:+20field\r\n", notice);
        Assert.DoesNotContain("\r\nForged: field", notice);
    }

    [Fact]
    public async Task Ret_hdrs_returns_only_the_headers()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "sender@example.org", "b@error.example", "RET=HDRS");
        string notice = await edge.NoticeAsync(config.Path, id, "sender non-delivery");
        Assert.Contains("Content-Type: text/rfc822-headers\r\n", notice);
        Assert.Contains("X-Test: yes\r\n", notice);
        Assert.DoesNotContain("the original body", notice);
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("sender@example.org", "NOTIFY=NEVER")]
    [InlineData("sender@example.org", "NOTIFY=SUCCESS,DELAY")]
    public async Task No_notice_for_the_null_sender_or_a_recipient_that_wants_none(string sender, string notify)
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, sender, "b@error.example", "", notify);
        await edge.WaitForLogAsync($@"{id}: removed");
        Assert.DoesNotContain(edge.Log, line => line.Contains("non-delivery notification"));
        Assert.Equal("Mail queue is empty\n", (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out);
    }

    [Fact]
    public async Task A_message_past_maximal_queue_lifetime_is_returned_with_its_last_status()
    {
        using var config = ConfigDirectory("maximal_queue_lifetime = 1s");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "sender@example.org", "c@slow.example");
        await edge.WaitForLogAsync($@"{id}: to=<c@slow\.example>, relay=none, .*dsn=4\.3\.0, status=expired \(message expired after");
        string notice = await edge.NoticeAsync(config.Path, id, "sender non-delivery");
        Assert.Contains("Final-Recipient: rfc822; c@slow.example\r\nAction: failed\r\nStatus: 4.3.0\r\n", notice);
        Assert.Matches(new Regex("<c@slow.example>: message expired after [0-9.]+ days in the queue: mail transport unavailable"), notice);
        Assert.Single(edge.Log, line => line.Contains($"{id}: sender non-delivery notification"));
    }

    [Fact]
    public async Task Bounce_queue_lifetime_limits_null_sender_mail_and_no_notice_follows()
    {
        using var config = ConfigDirectory("bounce_queue_lifetime = 1s");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string notice = await SendAsync(edge.Port, "", "n@slow.example");
        string ordinary = await SendAsync(edge.Port, "sender@example.org", "o@slow.example");

        await edge.WaitForLogAsync($@"{notice}: to=<n@slow\.example>, relay=none, .*status=expired \(message expired after");
        await edge.WaitForLogAsync($@"{notice}: removed");
        // The ordinary message, older by now than bounce_queue_lifetime, is still retried under maximal_queue_lifetime.
        var retried = System.Diagnostics.Stopwatch.StartNew();
        while (edge.Log.Count(line => line.Contains($"{ordinary}: to=<o@slow.example>") && line.Contains("status=deferred")) < 3)
        {
            Assert.True(retried.Elapsed < TimeSpan.FromSeconds(10), "the ordinary message was not retried");
            await Task.Delay(50);
        }
        Assert.DoesNotContain(edge.Log, line => line.Contains($"{ordinary}: to=<o@slow.example>") && line.Contains("expired"));
        Assert.DoesNotContain(edge.Log, line => line.Contains("non-delivery notification"));
    }

    /// <summary>notify_classes = delay: the postmaster (delay_notice_recipient) gets a copy of the delay warning, headers only.</summary>
    [Fact]
    public async Task The_delay_class_sends_the_postmaster_a_copy_of_the_warning()
    {
        using var config = ConfigDirectory("delay_warning_time = 1s\nnotify_classes = delay\ndelay_notice_recipient = hostmaster");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "sender@example.org", "d@slow.example");
        string copy = await edge.NoticeAsync(config.Path, id, "postmaster delay");
        Assert.Contains("sender: double-bounce@mx.edge.test\n", copy);
        Assert.Contains("recipient: hostmaster@mx.edge.test\n", copy);
        Assert.Contains("Subject: Postmaster Warning: Delayed Mail\r\n", copy);
        Assert.Contains("Final-Recipient: rfc822; d@slow.example\r\nAction: delayed\r\n", copy);
        Assert.DoesNotContain("the original body", copy);
    }

    [Fact]
    public async Task Delay_warning_time_warns_the_sender_once_even_across_a_restart()
    {
        using var config = ConfigDirectory("delay_warning_time = 1s");
        string id, quiet;
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            id = await SendAsync(edge.Port, "sender@example.org", "d@slow.example");
            quiet = await SendAsync(edge.Port, "sender@example.org", "q@slow.example", rcptParameters: "NOTIFY=FAILURE");
            string notice = await edge.NoticeAsync(config.Path, id, "sender delay");
            Assert.Contains("Subject: Delayed Mail (still being retried)\r\n", notice);
            Assert.Contains("# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n", notice);
            Assert.Contains("It will be retried until it is 5.0 days old.\r\n", notice);
            Assert.Contains("Final-Recipient: rfc822; d@slow.example\r\nAction: delayed\r\nStatus: 4.3.0\r\n", notice);
            Assert.Contains("Content-Type: text/rfc822-headers\r\n", notice);
            Assert.DoesNotContain("the original body", notice);
            // NOTIFY=FAILURE asks for no delay warning: retried past delay_warning_time, its sender hears nothing.
            var retried = System.Diagnostics.Stopwatch.StartNew();
            while (edge.Log.Count(l => l.Contains($"{quiet}: to=<q@slow.example>") && l.Contains("status=deferred")) < 3)
            {
                Assert.True(retried.Elapsed < TimeSpan.FromSeconds(10), "the NOTIFY=FAILURE message was not retried");
                await Task.Delay(50);
            }
            Assert.DoesNotContain(edge.Log, l => l.Contains($"{quiet}: sender delay notification"));
            await edge.KillAsync();
        }
        await using (var again = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            // Two more attempts after the restart, and no second warning.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (again.Log.Count(line => line.Contains($"{id}: to=<d@slow.example>") && line.Contains("status=deferred")) < 2)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the message was not retried after the restart");
                await Task.Delay(50);
            }
            Assert.DoesNotContain(again.Log, line => line.Contains("delay notification"));
        }
    }

    [Fact]
    public async Task Notify_classes_bounce_and_2bounce_send_the_postmaster_headers_from_double_bounce()
    {
        using var config = ConfigDirectory("notify_classes = bounce, 2bounce\nbounce_notice_recipient = pm-bounce\n2bounce_notice_recipient = pm-2bounce@example.net");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string returned = await SendAsync(edge.Port, "sender@example.org", "b@error.example");
        await edge.NoticeAsync(config.Path, returned, "sender non-delivery");
        string copy = await edge.NoticeAsync(config.Path, returned, "postmaster non-delivery");
        Assert.Contains("sender: double-bounce@mx.edge.test\n", copy);
        Assert.Contains("recipient: pm-bounce@mx.edge.test\n", copy);
        Assert.Contains("To: pm-bounce@mx.edge.test\r\nSubject: Postmaster Copy: Undelivered Mail\r\n", copy);
        Assert.Contains("Content-Type: text/rfc822-headers\r\n", copy);
        Assert.DoesNotContain("the original body", copy);

        // A bounce that cannot be returned goes to the 2bounce recipient; no notice goes to the null sender.
        string bounce = await SendAsync(edge.Port, "", "c@error.example");
        string doubleBounce = await edge.NoticeAsync(config.Path, bounce, "postmaster non-delivery");
        Assert.Contains("recipient: pm-2bounce@example.net\n", doubleBounce);
        Assert.DoesNotContain(edge.Log, line => line.Contains($"{bounce}: sender non-delivery notification"));

        // The postmaster's own notices, failing, make no further notices.
        string own = await SendAsync(edge.Port, "double-bounce@mx.edge.test", "d@error.example");
        await edge.WaitForLogAsync($@"{own}: removed");
        Assert.DoesNotContain(edge.Log, line => line.Contains($"{own}: ") && line.Contains("notification"));
    }
}
