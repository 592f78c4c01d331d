using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>`edge reload`, SIGHUP and SIGTERM against the real program: no connection dropped, no acknowledged message lost.</summary>
public class ReloadAndShutdownTests
{
    private static TempDirectory ConfigDirectory(string extra = "")
    {
        var directory = new TempDirectory();
        WriteMainCf(directory, extra);
        directory.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        return directory;
    }

    private static void WriteMainCf(TempDirectory directory, string extra) =>
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + "\n" + extra + "\n");

    [Fact]
    public async Task Reload_applies_to_new_sessions_and_keeps_open_ones()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using var open = await SmtpConnection.OpenAsync(edge.Port);
        await open.CommandAsync("EHLO client.example");
        await open.CommandAsync("MAIL FROM:<a@example.org>");

        WriteMainCf(config, "smtpd_banner = $myhostname ESMTP reloaded");
        var (exit, output, error) = await EdgeProcess.RunAsync(config.Path, "reload", "-c", config.Path);
        Assert.True(exit == 0, error);
        Assert.Equal("reloaded\n", output);

        Assert.Equal("250 2.1.5 Ok", await open.CommandAsync("RCPT TO:<postmaster@localhost>"));
        await using var fresh = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("220 mx.edge.test ESMTP reloaded", await fresh.ReadReplyAsync());
        await edge.WaitForLogAsync("edge/master\\[\\d+\\]: reload -- configuration");
    }

    [Fact]
    public async Task Reload_brings_new_routes_tables_and_transports_to_the_queue_manager()
    {
        using var config = ConfigDirectory("relay_domains = route.example\ntransport_maps = inline:{ { route.example = error:5.7.1 the old route } }");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\nerror unix - - n - - error\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string before = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: before\r\n\r\nx", "u@route.example");
        await edge.WaitForLogAsync($@"{before}: to=<u@route\.example>, .*status=bounced \(the old route\)");

        // A new table entry and a transport that master.cf did not have before.
        WriteMainCf(config, "relay_domains = route.example\ntransport_maps = inline:{ route.example=discard: }");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\nerror unix - - n - - error\ndiscard unix - - n - - discard\n");
        var (exit, _, error) = await EdgeProcess.RunAsync(config.Path, "reload", "-c", config.Path);
        Assert.True(exit == 0, error);
        string after = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: after\r\n\r\nx", "u@route.example");
        await edge.WaitForLogAsync($@"edge/discard\[\d+\]: {after}: to=<u@route\.example>, .*status=sent");
    }

    [Fact]
    public async Task A_broken_reload_keeps_the_running_configuration()
    {
        using var config = ConfigDirectory("smtpd_banner = $myhostname ESMTP original");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        WriteMainCf(config, "smtpd_banner = $myhostname ESMTP broken\nsmtpd_timeout = whenever");
        var (exit, _, error) = await EdgeProcess.RunAsync(config.Path, "reload", "-c", config.Path);
        Assert.Equal(1, exit);
        Assert.Contains("main.cf, line 7: parameter smtpd_timeout", error);
        await using var fresh = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("220 mx.edge.test ESMTP original", await fresh.ReadReplyAsync());
        await edge.WaitForLogAsync("warning: reload failed, the running configuration stays in force: .*smtpd_timeout");
    }

    [Fact]
    public async Task Sighup_reloads()
    {
        using var config = ConfigDirectory();
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        WriteMainCf(config, "smtpd_banner = $myhostname ESMTP after hangup");
        using (var hup = System.Diagnostics.Process.Start("kill", ["-HUP", edge.Pid.ToString()]))
        {
            await hup.WaitForExitAsync();
        }
        await edge.WaitForLogAsync("reload -- configuration");
        await using var fresh = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("220 mx.edge.test ESMTP after hangup", await fresh.ReadReplyAsync());
    }

    [Fact]
    public async Task Reload_without_a_server_says_so()
    {
        using var config = ConfigDirectory();
        var (exit, _, error) = await EdgeProcess.RunAsync(config.Path, "reload", "-c", config.Path);
        Assert.Equal(1, exit);
        Assert.Contains("no Edge server is running", error);
    }

    [Fact]
    public async Task Sigterm_lets_a_message_in_progress_finish()
    {
        using var config = ConfigDirectory();
        string id;
        var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (edge)
        {
            await using var sending = await SmtpConnection.OpenAsync(edge.Port);
            await sending.EnvelopeAsync();
            Assert.StartsWith("354", await sending.CommandAsync("DATA"));
            await sending.SendAsync("Subject: in flight\r\n\r\nfirst half\r\n");
            await using var idle = await SmtpConnection.OpenAsync(edge.Port);
            await idle.CommandAsync("EHLO idle.example");

            Task<int> exit = edge.TerminateAsync();
            Assert.Equal("421 4.3.2 Service shutting down", await idle.ReadReplyAsync());
            await Task.Delay(300);
            string queued = await sending.CommandAsync("second half\r\n.");
            Assert.StartsWith("250 2.0.0 Ok: queued as ", queued);
            id = queued.Split(' ')[^1];
            Assert.Equal("421 4.3.2 Service shutting down", await sending.ReadReplyAsync());
            Assert.Equal(0, await exit);
        }
        string mailq = (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out;
        Assert.Contains(id, mailq);
    }

    [Fact]
    public async Task Sigterm_ends_a_stalled_message_at_the_deadline()
    {
        using var config = ConfigDirectory("edge_shutdown_time_limit = 2s");
        var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (edge)
        {
            await using var stalled = await SmtpConnection.OpenAsync(edge.Port);
            await stalled.EnvelopeAsync();
            await stalled.CommandAsync("DATA");
            await stalled.SendAsync("Subject: never finished\r\n\r\n");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.Equal(0, await edge.TerminateAsync());
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
            Assert.True(await stalled.IsClosedAsync());
        }
        Assert.Equal("Mail queue is empty\n", (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out);
    }
}
