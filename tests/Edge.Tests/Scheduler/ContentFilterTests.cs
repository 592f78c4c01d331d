using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>
/// After-queue content filtering, as the seeds' amavis recipe sets it up: content_filter (or a FILTER action) sends
/// every recipient of a message to the filter transport; the filter re-injects the message on a 127.0.0.1 listener
/// with -o content_filter= and its own restrictions (and, as FILTER_README adds, no header checks, whose FILTER would
/// send the copy round again), and Edge delivers that copy to its real destination.
/// </summary>
public class ContentFilterTests
{
    /// <summary>main.cf and master.cf of the recipe, with the final destination an smtp-sink.</summary>
    private static TempDirectory Recipe(int sinkPort, int reinjectPort, string mainCf)
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + $$"""

            transport_maps = inline:{ remote.example=smtp:[127.0.0.1]:{{sinkPort}} }
            minimal_backoff_time = 1h
            {{mainCf}}

            """);
        directory.Write("master.cf", $"""
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            smtp-amavis unix -      -       n       -       10       smtp
                -o smtp_data_done_timeout=1200s
                -o smtp_never_send_ehlo=yes
                -o notify_classes=protocol,resource,software
            127.0.0.1:{reinjectPort} inet n  -       n       -       -       smtpd
                -o content_filter=
                -o mynetworks=127.0.0.0/8
                -o local_recipient_maps=
                -o notify_classes=protocol,resource,software
                -o myhostname=localhost
                -o smtpd_client_restrictions=
                -o smtpd_sender_restrictions=
                -o smtpd_recipient_restrictions=permit_mynetworks,reject
                -o receive_override_options=no_header_body_checks
            """);
        return directory;
    }

    private static async Task<string> SendAsync(int port, string sender, string subject, string headers = "")
    {
        await using var c = await SmtpConnection.OpenAsync(port);
        await c.EnvelopeAsync(sender, "user@remote.example");
        await c.CommandAsync("DATA");
        return (await c.CommandAsync($"Subject: {subject}\r\n{headers}\r\n..a dotted line\r\nbody of {subject}\r\n.")).Split(' ')[^1];
    }

    [Fact]
    public async Task Content_filter_sends_mail_through_a_filter_that_reinjects_it_and_the_copy_is_delivered_once()
    {
        int reinjectPort = FreePorts.Tcp();
        await using var filter = new ReinjectingFilter(reinjectPort);
        await using var sink = await SmtpSink.StartAsync();
        using var config = Recipe(sink.Port, reinjectPort, $"content_filter = smtp-amavis:[127.0.0.1]:{filter.Port}");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "sender@example.org", "filtered");
        await edge.WaitForLogAsync($@"edge/smtp\[\d+\]: {id}: to=<user@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{filter.Port}, .*status=sent \(250 2\.0\.0 Ok: queued as \w+");
        string dump = Assert.Single(await sink.DumpsAsync(1));
        Assert.Contains("X-Filtered: by the test filter\n", dump);
        Assert.Contains("\n.a dotted line\n", dump);
        Assert.Contains("body of filtered", dump);
        // The re-injected copy came in on the filter's listener, was not filtered again, and went to its destination.
        await edge.WaitForLogAsync($@"edge/smtp\[\d+\]: \w+: to=<user@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{sink.Port}, .*status=sent");
        Assert.Equal(1, filter.Filtered);
        // smtp_never_send_ehlo = yes on the filter transport: HELO, never EHLO.
        Assert.StartsWith("HELO ", filter.Commands.First());
        await Task.Delay(500);
        Assert.Single(await sink.DumpsAsync(1));
    }

    /// <summary>
    /// Without content_filter, a header_checks FILTER action or an access table's FILTER sends only the messages they
    /// match through the filter; the others go straight to their destination.
    /// </summary>
    [Fact]
    public async Task A_filter_action_routes_only_the_messages_it_matches()
    {
        int reinjectPort = FreePorts.Tcp();
        await using var filter = new ReinjectingFilter(reinjectPort);
        await using var sink = await SmtpSink.StartAsync();
        string route = $"smtp-amavis:[127.0.0.1]:{filter.Port}";
        using var config = Recipe(sink.Port, reinjectPort,
            $"smtpd_sender_restrictions = check_sender_access inline:{{ {{ scan@example.org = FILTER {route} }} }}");
        config.Write("header_checks", $"/^X-Scan: yes/ FILTER {route}\n");
        File.AppendAllText(config.File("main.cf"), $"header_checks = regexp:{config.File("header_checks")}\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await SendAsync(edge.Port, "sender@example.org", "by header", "X-Scan: yes\r\n");
        await SendAsync(edge.Port, "scan@example.org", "by sender");
        await SendAsync(edge.Port, "sender@example.org", "direct");
        IReadOnlyList<string> dumps = await sink.DumpsAsync(3);
        Assert.Equal(3, dumps.Count);
        Assert.Contains("X-Filtered: by the test filter\n", dumps.Single(d => d.Contains("Subject: by header")));
        Assert.Contains("X-Filtered: by the test filter\n", dumps.Single(d => d.Contains("Subject: by sender")));
        Assert.DoesNotContain("X-Filtered", dumps.Single(d => d.Contains("Subject: direct")));
        Assert.Equal(2, filter.Filtered);
    }

    /// <summary>The filter a message goes through is part of it in the queue: it survives a restart.</summary>
    [Fact]
    public async Task A_message_waiting_for_its_filter_still_goes_through_it_after_a_restart()
    {
        int reinjectPort = FreePorts.Tcp();
        int filterPort = FreePorts.Tcp();
        await using var sink = await SmtpSink.StartAsync();
        using var config = Recipe(sink.Port, reinjectPort, $"content_filter = smtp-amavis:[127.0.0.1]:{filterPort}");
        string id;
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            id = await SendAsync(edge.Port, "sender@example.org", "waits");
            await edge.WaitForLogAsync($@"{id}: to=<user@remote\.example>, relay=none, .*status=deferred");
            await edge.KillAsync();
        }
        File.WriteAllText(config.File("main.cf"), File.ReadAllText(config.File("main.cf")).Replace("content_filter = ", "# content_filter = "));
        await using var filter = new ReinjectingFilter(reinjectPort, filterPort);
        await using var restarted = await EdgeProcess.StartAsync(config.Path, config.Path);
        var (exit, _, error) = await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-f");
        Assert.True(exit == 0, error);
        await restarted.WaitForLogAsync($@"{id}: to=<user@remote\.example>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:{filterPort}, .*status=sent");
        Assert.Contains("X-Filtered: by the test filter\n", Assert.Single(await sink.DumpsAsync(1)));
    }
}
