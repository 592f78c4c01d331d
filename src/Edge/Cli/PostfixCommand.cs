using System.Diagnostics;
using Edge.Config;
using Edge.Hosting;
using Edge.Queue;

namespace Edge.Cli;

/// <summary>
/// <c>edge postfix start|stop|status|reload|check|flush|logrotate</c>, as Postfix's postfix(1) with its postfix-script messages.
/// start runs <c>edge run</c> in a session of its own (setsid) and waits until it owns the queue: its log goes to
/// maillog_file, which start therefore needs; its pid is in queue_directory/pid/master.pid. stop sends SIGTERM (the
/// graceful stop) and waits until the queue is free. Under systemd, run <c>edge run</c> itself (deploy/systemd).
/// </summary>
internal static class PostfixCommand
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(CommandLine line, TextWriter stderr)
    {
        string action = line.Arguments.Count == 1 ? line.Arguments[0] : "";
        switch (action)
        {
            case "reload":
                return await AdminCommands.ReloadAsync(line, stderr);
            case "check":
                return await CheckCommand.RunAsync(line, stderr);
            case "flush":
                return await AdminCommands.PostqueueAsync(CommandLine.Parse(["-f", .. line.ConfigDirectory is { } d ? new[] { "-c", d } : []]), stderr);
            case "logrotate":
                return await LogrotateAsync(MainConfig.Load(line.ConfigDirectory), stderr);
        }
        if (action is not ("start" or "stop" or "status"))
        {
            throw new UsageException("usage: edge postfix [-c DIR] start|stop|status|reload|check|flush|logrotate");
        }
        MainConfig config = MainConfig.Load(line.ConfigDirectory);
        string queueDirectory = Path.GetFullPath(config.Get("queue_directory"));
        int? running = QueueLock.Owner(queueDirectory);
        switch (action)
        {
            case "status" when running is { } pid:
                stderr.WriteLine($"edge/postfix-script: the Edge mail system is running: PID: {pid}");
                return 0;
            case "status":
                stderr.WriteLine("edge/postfix-script: the Edge mail system is not running");
                return 1;
            case "stop" when running is { } pid:
                stderr.WriteLine("edge/postfix-script: stopping the Edge mail system");
                if (ProcessSignal.Send(pid, ProcessSignal.Terminate) is { } failure)
                {
                    return Fatal(stderr, $"cannot signal PID {pid}: {failure}");
                }
                return await WaitAsync(() => QueueLock.IsFree(queueDirectory), config.GetTime("edge_shutdown_time_limit") + TimeSpan.FromSeconds(30))
                    ? 0 : Fatal(stderr, $"the Edge mail system (PID {pid}) did not stop");
            case "stop":
                return Fatal(stderr, "the Edge mail system is not running");
            case "start" when running is { } pid:
                return Fatal(stderr, $"the Edge mail system is already running: PID: {pid}");
        }
        if (MaillogFile.PathOf(config) is not { } maillog)
        {
            return Fatal(stderr, "a started Edge has no terminal to log to: set maillog_file, or run edge run in the foreground (under systemd: deploy/systemd/edge.service)");
        }
        stderr.WriteLine("edge/postfix-script: starting the Edge mail system");
        // The server gets pipes for its standard streams, not the caller's: a script reading this command's output must
        // see it end. What the server says before its log is open, a fatal error above all, is read here and passed on.
        var start = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("--fork");
        foreach (string arg in SelfCommand.Invocation())
        {
            start.ArgumentList.Add(arg);
        }
        start.ArgumentList.Add("run");
        if (line.ConfigDirectory is { } directory)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(Path.GetFullPath(directory));
        }
        using Process launcher = Process.Start(start)!;
        launcher.StandardInput.Close();
        // Both end when the server exits (or closes them): then it is not running.
        Task<string> said = launcher.StandardError.ReadToEndAsync();
        Task<string> early = launcher.StandardOutput.ReadToEndAsync();
        // Started: it owns the queue and its admin socket answers, which Kestrel binds with the SMTP listeners.
        bool started = await WaitAsync(() => Answers(queueDirectory) || (said.IsCompleted && early.IsCompleted), StartLimit)
            && QueueLock.Owner(queueDirectory) is not null;
        if (!started)
        {
            stderr.Write(early.IsCompleted ? early.Result : "");
            stderr.Write(said.IsCompleted ? said.Result : "");
            return Fatal(stderr, $"the Edge mail system did not start (its log: {maillog})");
        }
        return 0;
    }

    /// <summary>
    /// postfix logrotate, as postfix-script does it: maillog_file is renamed with the suffix date(1) makes of
    /// maillog_file_rotate_suffix, a running server reloads (and opens maillog_file again: a new file), and a second
    /// later the renamed file is compressed by maillog_file_compressor.
    /// </summary>
    private static async Task<int> LogrotateAsync(MainConfig config, TextWriter stderr)
    {
        foreach (string name in (string[])["maillog_file", "maillog_file_compressor", "maillog_file_rotate_suffix"])
        {
            if (config.Get(name).Length == 0)
            {
                return Fatal(stderr, $"empty '{name}' parameter value - logfile rotation failed");
            }
        }
        string maillog = config.Get("maillog_file");
        if (maillog.StartsWith("/dev/", StringComparison.Ordinal))
        {
            return Fatal(stderr, $"not rotating '{maillog}'");
        }
        string? failure = await RotateAsync(config, MaillogFile.PathOf(config)!);
        return failure is null ? 0 : Fatal(stderr, $"logfile '{maillog}' rotation failed: {failure}");
    }

    /// <returns>null, or why the rotation stopped.</returns>
    private static async Task<string?> RotateAsync(MainConfig config, string maillog)
    {
        (string? suffix, string? error) = await RunProgramAsync("date", "+" + config.Get("maillog_file_rotate_suffix"));
        if (suffix is null)
        {
            return error;
        }
        string rotated = $"{maillog}.{suffix.TrimEnd('\n')}";
        try
        {
            File.Move(maillog, rotated);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }
        string queueDirectory = Path.GetFullPath(config.Get("queue_directory"));
        if (QueueLock.Owner(queueDirectory) is not null)
        {
            // The server opens maillog_file again as it reloads; one that could not says so, and the file it still
            // writes is not compressed.
            var reloadError = new StringWriter();
            try
            {
                if (!await Admin.AdminClient.RequestAsync(queueDirectory, "RELOAD", Stream.Null, reloadError, serverOnly: true))
                {
                    return reloadError.ToString().TrimEnd();
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
            {
                return $"the running server did not answer: {e.Message}";
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
        (_, error) = await RunProgramAsync(config.Get("maillog_file_compressor"), rotated);
        return error;
    }

    /// <summary>
    /// A program run to its end with nothing on its standard input: its standard output, or null with why it failed
    /// (what it said on standard error, or its exit code).
    /// </summary>
    private static async Task<(string? Output, string? Error)> RunProgramAsync(string program, string argument)
    {
        var start = new ProcessStartInfo(program)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(argument);
        try
        {
            using Process process = Process.Start(start)!;
            process.StandardInput.Close();
            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            string said = (await error).Trim();
            return process.ExitCode == 0 ? (await output, null)
                : (null, said.Length > 0 ? said : $"{program} exited with status {process.ExitCode}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"{program}: {e.Message}");
        }
    }

    private static bool Answers(string queueDirectory)
    {
        if (QueueLock.Owner(queueDirectory) is null)
        {
            return false;
        }
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream,
            System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            socket.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(Admin.AdminSocket.PathOf(queueDirectory)));
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static async Task<bool> WaitAsync(Func<bool> done, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!done())
        {
            if (clock.Elapsed > limit)
            {
                return false;
            }
            await Task.Delay(100);
        }
        return true;
    }

    private static int Fatal(TextWriter stderr, string message)
    {
        stderr.WriteLine($"edge/postfix-script: fatal: {message}");
        return 1;
    }
}
