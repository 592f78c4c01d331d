using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Edge.Tests.Support;

/// <summary>
/// The real `edge` program in a child process, as an administrator runs it: for tests of the command line,
/// the log on standard output, the tools, and kill -9.
/// </summary>
public sealed partial class EdgeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();

    private readonly bool _traced;

    private EdgeProcess(Process process, bool traced)
    {
        _process = process;
        _traced = traced;
    }

    public int Port { get; private set; }

    public int Pid => _process.Id;

    public IReadOnlyList<string> Log => _log.ToArray();

    public static string EdgeDll => Path.Combine(AppContext.BaseDirectory, "edge.dll");

    private static ProcessStartInfo StartInfo(string workingDirectory, IEnumerable<string> args, IReadOnlyList<string>? tracer = null) =>
        StartInfo(EdgeDll, workingDirectory, args, tracer);

    /// <param name="edgeDll">The program: <see cref="EdgeDll"/>, or a build of it elsewhere.</param>
    private static ProcessStartInfo StartInfo(string edgeDll, string workingDirectory, IEnumerable<string> args, IReadOnlyList<string>? tracer = null)
    {
        var info = new ProcessStartInfo(tracer is null ? "dotnet" : tracer[0])
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in tracer is null ? Array.Empty<string>() : [.. tracer.Skip(1), "dotnet"])
        {
            info.ArgumentList.Add(arg);
        }
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(edgeDll);
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return info;
    }

    /// <summary>Starts `edge run` and waits until it listens (its "daemon started" log line).</summary>
    /// <param name="tracer">A program and its arguments that run edge as their child (strace …).</param>
    public static async Task<EdgeProcess> StartAsync(string workingDirectory, string? configDirectory = null, IReadOnlyList<string>? tracer = null)
    {
        string[] args = configDirectory is null ? ["run"] : ["run", "-c", configDirectory];
        var process = new Process { StartInfo = StartInfo(workingDirectory, args, tracer) };
        var edge = new EdgeProcess(process, tracer is not null);
        var started = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var errors = new ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                started.TrySetException(new InvalidOperationException("edge exited: " + string.Join("\n", errors)));
                return;
            }
            edge._log.Enqueue(e.Data);
            if (e.Data.Contains("daemon started"))
            {
                started.TrySetResult(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                errors.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        string line = await started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        edge.Port = int.Parse(ListeningOn().Match(line).Groups[1].Value);
        return edge;
    }

    /// <summary>
    /// The notice the bounce service logged for <paramref name="id"/> ("sender non-delivery", "sender delay",
    /// "sender delivery status", "postmaster non-delivery"), as postcat shows it; it stays queued when
    /// master.cf has no transport for its recipient.
    /// </summary>
    public async Task<string> NoticeAsync(string configDirectory, string id, string kind)
    {
        string line = await WaitForLogAsync($@"edge/bounce\[\d+\]: {id}: {kind} notification: \w+");
        var (exit, output, error) = await RunAsync(configDirectory, "postcat", "-c", configDirectory, "-q", line.Split(' ')[^1]);
        Assert.True(exit == 0, error);
        return output;
    }

    /// <summary>
    /// Starts an edge subcommand of <paramref name="edgeDll"/> (<see cref="EdgeDll"/>, or a build of it elsewhere) without
    /// the environment variables <paramref name="unset"/> and leaves it running, its standard output and error redirected:
    /// for a test that signals it.
    /// </summary>
    public static Process StartCommand(string edgeDll, string workingDirectory, IEnumerable<string> unset, params string[] args)
    {
        ProcessStartInfo info = StartInfo(edgeDll, workingDirectory, args);
        foreach (string name in unset)
        {
            info.Environment.Remove(name);
        }
        return Process.Start(info) ?? throw new InvalidOperationException("edge did not start");
    }

    /// <summary>Runs an edge subcommand to completion.</summary>
    public static Task<(int Exit, string Out, string Error)> RunAsync(string workingDirectory, params string[] args) =>
        RunWithInputAsync(workingDirectory, null, args);

    /// <summary>An edge subcommand with <paramref name="input"/> on its standard input (none: an empty one).</summary>
    public static Task<(int Exit, string Out, string Error)> RunWithInputAsync(string workingDirectory, string? input, params string[] args) =>
        RunAsync(StartInfo(workingDirectory, args), input);

    /// <summary>An edge subcommand of <paramref name="edgeDll"/>, a build of edge elsewhere, run to its end.</summary>
    public static Task<(int Exit, string Out, string Error)> RunBuildAsync(string edgeDll, string workingDirectory, params string[] args) =>
        RunAsync(StartInfo(edgeDll, workingDirectory, args), null);

    private static async Task<(int Exit, string Out, string Error)> RunAsync(ProcessStartInfo info, string? input)
    {
        info.RedirectStandardInput = true;
        using var process = new Process { StartInfo = info };
        process.Start();
        await process.StandardInput.WriteAsync(input ?? "");
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await Command.WaitOrKillAsync(process, TimeSpan.FromSeconds(60), $"edge {string.Join(' ', info.ArgumentList.Skip(2))}");
        return (process.ExitCode, await output, await error);
    }

    /// <summary>Waits until the log has a line matching <paramref name="pattern"/>.</summary>
    public async Task<string> WaitForLogAsync(string pattern) => (await WaitForLogLinesAsync(pattern, 1))[0];

    /// <summary>Waits until the log has <paramref name="count"/> lines matching <paramref name="pattern"/>, and returns them.</summary>
    public async Task<string[]> WaitForLogLinesAsync(string pattern, int count)
    {
        var regex = new Regex(pattern);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            string[] lines = [.. Log.Where(line => regex.IsMatch(line))];
            if (lines.Length >= count)
            {
                return lines;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"fewer than {count} log lines match {pattern}; log:\n{string.Join("\n", Log)}");
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or power cut of the process.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: _traced);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM: the orderly stop an init system asks for (to edge itself, not to a tracer that runs it).</summary>
    public async Task<int> TerminateAsync()
    {
        string pid = _traced ? File.ReadAllText($"/proc/{_process.Id}/task/{_process.Id}/children").Split(' ')[0] : _process.Id.ToString();
        using (var kill = Process.Start("kill", ["-TERM", pid]))
        {
            await kill.WaitForExitAsync();
        }
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"listening on [^,]*?:(\d+)")]
    private static partial Regex ListeningOn();
}
