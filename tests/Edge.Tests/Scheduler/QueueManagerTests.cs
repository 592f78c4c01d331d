using System.Globalization;
using System.Text.RegularExpressions;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>The queue manager with the built-in transports: routing, status records, removal, deferral, flush.</summary>
public class QueueManagerTests
{
    private const string Routes = """
        transport_maps = inline:{ discard.example=discard:, { error.example = error:5.1.1 no such user here }, slow.example=nowhere:, badport.example=smtp:[127.0.0.1]:99999 }
        minimal_backoff_time = 1s
        maximal_backoff_time = 2s
        queue_run_delay = 1s
        """;

    private static TempDirectory ConfigDirectory(string mainCf = "", string discardMaxproc = "-", string masterCf = "")
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + "\n" + Routes + "\n" + mainCf + "\n");
        directory.Write("master.cf", $"""
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            discard   unix  -       -       n       -       {discardMaxproc}       discard
            error     unix  -       -       n       -       -       error
            {masterCf}
            """);
        return directory;
    }

    private static Task<string> SendAsync(int port, params string[] recipients) =>
        SmtpConnection.SendMessageAsync(port, "Subject: routed\r\n\r\nx", recipients);

    private static async Task<string> MailqAsync(TempDirectory config) =>
        (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out;

    private static async Task<string> WaitForMailqAsync(TempDirectory config, Func<string, bool> done)
    {
        string mailq = "";
        for (int i = 0; i < 100 && !done(mailq); i++)
        {
            await Task.Delay(100);
            mailq = await MailqAsync(config);
        }
        return mailq;
    }

    [Fact]
    public async Task Discarded_and_bounced_recipients_finish_the_message()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "a@discard.example", "b@error.example");
        await edge.WaitForLogAsync($@"edge/discard\[\d+\]: {id}: to=<a@discard\.example>, relay=none, delay=[\d.]+, delays=[\d.]+/0/0/[\d.]+, dsn=2\.0\.0, status=sent \(discard\.example\)");
        await edge.WaitForLogAsync($@"edge/error\[\d+\]: {id}: to=<b@error\.example>, relay=none, .*dsn=5\.1\.1, status=bounced \(no such user here\)");
        await edge.WaitForLogAsync($@"edge/qmgr\[\d+\]: {id}: removed");
        // What is left is the notice to the sender about b@error.example, from the null sender.
        string mailq = await MailqAsync(config);
        Assert.Matches(" MAILER-DAEMON\n", mailq);
        Assert.Contains("sender@example.org\n", mailq);
        Assert.EndsWith(" in 1 Request.\n", mailq);
    }

    [Fact]
    public async Task A_finished_recipient_is_not_delivered_again_after_a_restart()
    {
        using var config = ConfigDirectory();
        string id;
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            id = await SendAsync(edge.Port, "a@discard.example", "c@slow.example");
            await edge.WaitForLogAsync($@"{id}: to=<a@discard\.example>, .*status=sent");
            await edge.WaitForLogAsync($@"{id}: to=<c@slow\.example>, .*status=deferred \(mail transport unavailable\)");
            Assert.Equal(0, await edge.TerminateAsync());
        }
        string stopped = await MailqAsync(config);
        Assert.Contains("c@slow.example", stopped);
        Assert.DoesNotContain("a@discard.example", stopped);
        Assert.Contains("(mail transport unavailable)", stopped);

        await using var again = await EdgeProcess.StartAsync(config.Path, config.Path);
        await again.WaitForLogAsync($@"{id}: to=<c@slow\.example>, .*status=deferred");
        Assert.DoesNotContain(again.Log, line => line.Contains($"{id}: to=<a@discard.example>"));
    }

    [Fact]
    public async Task A_message_needing_more_agent_runs_than_maxproc_is_delivered()
    {
        // One recipient per discard run, one run at a time: five runs, one after the other.
        using var config = ConfigDirectory("discard_destination_recipient_limit = 1", discardMaxproc: "1");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string[] recipients = [.. Enumerable.Range(1, 5).Select(i => $"u{i}@discard.example")];
        string id = await SendAsync(edge.Port, recipients);
        await edge.WaitForLogAsync($@"edge/qmgr\[\d+\]: {id}: removed");
        foreach (string recipient in recipients)
        {
            Assert.Single(edge.Log, l => l.Contains($"{id}: to=<{recipient}>") && l.Contains("status=sent"));
        }
    }

    [Fact]
    public async Task A_next_hop_with_a_bad_port_defers_with_the_reason_and_the_other_recipients_are_delivered_once()
    {
        using var config = ConfigDirectory(masterCf: "smtp unix - - n - - smtp");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "a@discard.example", "b@badport.example");
        await edge.WaitForLogAsync($@"{id}: to=<b@badport\.example>, relay=none, .*dsn=4\.3\.5, status=deferred \(mail system configuration error: bad port number in next hop \[127\.0\.0\.1\]:99999\)");
        Assert.Contains("bad port number in next hop [127.0.0.1]:99999", await MailqAsync(config));
        await WaitForAttemptsAsync(edge, id, 2, "b@badport.example");
        Assert.Single(edge.Log, l => l.Contains($"{id}: to=<a@discard.example>"));
    }

    [Fact]
    public async Task Deferred_messages_are_retried_with_backoff_and_by_postqueue_f()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "c@slow.example");
        await edge.WaitForLogAsync($@"{id}: to=<c@slow\.example>, .*status=deferred");
        // minimal_backoff_time = 1s: a second attempt comes by itself.
        await WaitForAttemptsAsync(edge, id, 2);
        var (exit, _, error) = await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-f");
        Assert.True(exit == 0, error);
        int before = Attempts(edge, id);
        await WaitForAttemptsAsync(edge, id, before + 1);
    }

    [Fact]
    public async Task Deferred_mail_waits_for_the_next_queue_run()
    {
        // Backoff of one and two seconds, but the deferred queue is looked at every four: from one retry to
        // the next, four seconds pass.
        using var config = ConfigDirectory("queue_run_delay = 4s");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SendAsync(edge.Port, "c@slow.example");
        await WaitForAttemptsAsync(edge, id, 3);
        // Timed by the server's own clock, the delay= of each attempt (the message's age then), not by when this test
        // noticed the lines: on a loaded machine it notices late.
        double[] ages = [.. edge.Log.Where(line => line.Contains($"{id}: to=<c@slow.example>") && line.Contains("status=deferred"))
            .Select(line => double.Parse(Regex.Match(line, @" delay=([\d.]+),").Groups[1].Value, CultureInfo.InvariantCulture))];
        Assert.True(ages[2] - ages[1] >= 3.5, $"retried after {ages[2] - ages[1]} s");
    }

    private static int Attempts(EdgeProcess edge, string id, string recipient = "c@slow.example") =>
        edge.Log.Count(line => line.Contains($"{id}: to=<{recipient}>") && line.Contains("status=deferred"));

    private static async Task WaitForAttemptsAsync(EdgeProcess edge, string id, int attempts, string recipient = "c@slow.example")
    {
        for (int i = 0; i < 100 && Attempts(edge, id, recipient) < attempts; i++)
        {
            await Task.Delay(100);
        }
        Assert.True(Attempts(edge, id, recipient) >= attempts, $"only {Attempts(edge, id, recipient)} attempts:\n{string.Join("\n", edge.Log)}");
    }
}
