using System.IO.Compression;
using System.Text.RegularExpressions;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// edge postfix start|stop|status|logrotate, as Postfix's postfix(1): start leaves a server running in the background with
/// its log in maillog_file, stop ends it gracefully, logrotate renames and compresses the log; and the systemd unit in
/// deploy/ that runs it in the foreground.
/// </summary>
public class PostfixCommandTests
{
    private static Task<(int Exit, string Out, string Error)> PostfixAsync(TempDirectory config, string action) =>
        EdgeProcess.RunAsync(config.Path, "postfix", "-c", config.Path, action);

    [Fact]
    public async Task Start_runs_the_server_in_the_background_and_stop_ends_it_gracefully()
    {
        int port = FreePorts.Tcp();
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nmaillog_file = {config.File("maillog")}\n");
        config.Write("master.cf", $"127.0.0.1:{port} inet n - n - - smtpd\n");
        try
        {
            Assert.Equal((1, "", "edge/postfix-script: the Edge mail system is not running\n"), await PostfixAsync(config, "status"));
            Assert.Equal((0, "", "edge/postfix-script: starting the Edge mail system\n"), await PostfixAsync(config, "start"));
            (int exit, _, string status) = await PostfixAsync(config, "status");
            Assert.Equal(0, exit);
            string pid = Regex.Match(status, @"^edge/postfix-script: the Edge mail system is running: PID: (\d+)\n$").Groups[1].Value;
            Assert.NotEmpty(pid);
            Assert.Equal(pid, File.ReadAllText(Path.Combine(config.Path, "var", "pid", "master.pid")).Trim());
            Assert.Equal((1, "", $"edge/postfix-script: fatal: the Edge mail system is already running: PID: {pid}\n"), await PostfixAsync(config, "start"));

            string id = await SmtpConnection.SendMessageAsync(port, "Subject: background\r\n\r\nbody\r\n", "postmaster@localhost");
            Assert.Equal((0, "", "edge/postfix-script: stopping the Edge mail system\n"), await PostfixAsync(config, "stop"));
            Assert.Equal(1, (await PostfixAsync(config, "status")).Exit);
            string log = File.ReadAllText(config.File("maillog"));
            Assert.Matches($@"edge/master\[{pid}\]: daemon started -- .*listening on 127\.0\.0\.1:{port}", log);
            Assert.Matches($@"edge/qmgr\[{pid}\]: {id}: from=<sender@example\.org>", log);
            Assert.Matches($@"edge/master\[{pid}\]: terminating on signal\n$", log);
            // The message outlived the stop: it is in the queue the next server opens.
            Assert.Contains(id, (await EdgeProcess.RunAsync(config.Path, "postqueue", "-c", config.Path, "-p")).Out);
        }
        finally
        {
            await PostfixAsync(config, "stop");
        }
    }

    [Fact]
    public async Task Start_without_a_log_file_or_with_a_server_that_cannot_start_says_why()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\n");
        config.Write("master.cf", $"127.0.0.1:{FreePorts.Tcp()} inet n - n - - smtpd\n");
        (int exit, string output, string error) = await PostfixAsync(config, "start");
        Assert.Equal((1, ""), (exit, output));
        Assert.StartsWith("edge/postfix-script: fatal: a started Edge has no terminal to log to: set maillog_file", error);

        // A port another program holds: the server's own fatal error is passed on.
        using var holder = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        holder.Start();
        int taken = ((System.Net.IPEndPoint)holder.LocalEndpoint).Port;
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nmaillog_file = {config.File("maillog")}\n");
        config.Write("master.cf", $"127.0.0.1:{taken} inet n - n - - smtpd\n");
        (exit, _, error) = await PostfixAsync(config, "start");
        Assert.Equal(1, exit);
        Assert.Contains($"edge run: fatal: 127.0.0.1:{taken}: address already in use", error);
        Assert.EndsWith($"edge/postfix-script: fatal: the Edge mail system did not start (its log: {config.File("maillog")})\n", error);
        Assert.Equal(1, (await PostfixAsync(config, "status")).Exit);
    }

    /// <summary>
    /// As postfix-script does it: the log is renamed with the suffix date(1) makes of maillog_file_rotate_suffix and
    /// compressed with maillog_file_compressor, and the running server writes on into a new file of the old name.
    /// </summary>
    [Fact]
    public async Task Logrotate_renames_and_compresses_the_log_and_the_server_writes_on_into_a_new_one()
    {
        int port = FreePorts.Tcp();
        using var config = new TempDirectory();
        string maillog = config.File("maillog");
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nmaillog_file = {maillog}\nmaillog_file_rotate_suffix = rotated-%Y\n");
        config.Write("master.cf", $"127.0.0.1:{port} inet n - n - - smtpd\n");
        try
        {
            Assert.Equal(0, (await PostfixAsync(config, "start")).Exit);
            string before = await SmtpConnection.SendMessageAsync(port, "Subject: before\r\n\r\nbody\r\n", "postmaster@localhost");
            await LoggedAsync(maillog, $"{before}: from=<");

            Assert.Equal((0, "", ""), await PostfixAsync(config, "logrotate"));
            string rotated = Assert.Single(Directory.GetFiles(config.Path, "maillog.rotated*"));
            Assert.Matches(@"/maillog\.rotated-\d{4}\.gz$", rotated);
            await using (var gzip = new GZipStream(File.OpenRead(rotated), CompressionMode.Decompress))
            {
                string old = await new StreamReader(gzip).ReadToEndAsync();
                Assert.Contains($"{before}: from=<", old);
                Assert.DoesNotContain("reload -- configuration", old);
            }
            string after = await SmtpConnection.SendMessageAsync(port, "Subject: after\r\n\r\nbody\r\n", "postmaster@localhost");
            string current = await LoggedAsync(maillog, $"{after}: from=<");
            Assert.Contains("edge/master[", current);
            Assert.Contains("reload -- configuration", current);
            Assert.DoesNotContain($"{before}: from=<", current);

            // A maillog_file that cannot be opened fails the reload (logrotate would not compress), and the log goes on.
            config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nmaillog_file = {config.File("no/such/directory/maillog")}\n");
            (int exit, _, string error) = await PostfixAsync(config, "reload");
            Assert.Equal(1, exit);
            Assert.Contains("maillog_file", error);
            string later = await SmtpConnection.SendMessageAsync(port, "Subject: later\r\n\r\nbody\r\n", "postmaster@localhost");
            Assert.Contains("cannot open", await LoggedAsync(maillog, $"{later}: from=<"));
        }
        finally
        {
            await PostfixAsync(config, "stop");
        }
    }

    [Fact]
    public async Task Logrotate_says_why_it_cannot_rotate()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\n");
        Assert.Equal((1, "", "edge/postfix-script: fatal: empty 'maillog_file' parameter value - logfile rotation failed\n"),
            await PostfixAsync(config, "logrotate"));
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\nmaillog_file = /dev/stdout\n");
        Assert.Equal((1, "", "edge/postfix-script: fatal: not rotating '/dev/stdout'\n"), await PostfixAsync(config, "logrotate"));
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nmaillog_file = {config.File("maillog")}\nmaillog_file_compressor = no-such-compressor\n");
        (int exit, _, string error) = await PostfixAsync(config, "logrotate");
        Assert.Equal(1, exit);
        Assert.StartsWith($"edge/postfix-script: fatal: logfile '{config.File("maillog")}' rotation failed: ", error);
        config.Write("maillog", "a line\n");
        (exit, _, error) = await PostfixAsync(config, "logrotate");
        Assert.Equal(1, exit);
        Assert.StartsWith($"edge/postfix-script: fatal: logfile '{config.File("maillog")}' rotation failed: no-such-compressor: ", error);
    }

    /// <summary>The log once it has a line containing <paramref name="text"/> (the writer batches its lines).</summary>
    private static async Task<string> LoggedAsync(string maillog, string text)
    {
        for (int i = 0; i < 200; i++)
        {
            string log = File.Exists(maillog) ? await File.ReadAllTextAsync(maillog) : "";
            if (log.Contains(text, StringComparison.Ordinal))
            {
                return log;
            }
            await Task.Delay(50);
        }
        Assert.Fail($"no line with \"{text}\" in {maillog}");
        return "";
    }

    [Fact]
    public async Task The_systemd_unit_passes_systemd_analyze_verify()
    {
        string unit = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "deploy", "systemd", "edge.service"));
        Assert.Contains("ExecStart=/usr/local/bin/edge run -c /etc/edge", unit);
        Assert.Contains("ExecReload=/bin/kill -HUP $MAINPID", unit);
        using var directory = new TempDirectory();
        // The unit names the installed program; here it runs the one the tests built.
        directory.Write("edge.service", unit.Replace("/usr/local/bin/edge", $"{Environment.ProcessPath} {EdgeProcess.EdgeDll}"));
        (int exit, string output) = await Peer.RunAsync("systemd-analyze", "systemd", "verify", directory.File("edge.service"));
        Assert.True(exit == 0, output);
        Assert.Equal("", output.Trim());
    }
}
