using System.Diagnostics;

namespace Edge.Tests.Support;

/// <summary>
/// Real mail software as the other side of a test (swaks, Postfix's smtp-source). .ci/run installs them; a
/// missing one fails the test with the package to install, never skips it.
/// </summary>
public static class Peer
{
    public static string Require(string program, string package)
    {
        foreach (string directory in new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin" })
        {
            string path = Path.Combine(directory, program);
            if (File.Exists(path))
            {
                return path;
            }
        }
        Assert.Fail($"{program} is not installed: apt-get install {package} (.ci/run does this)");
        return "";
    }

    public static Task<(int Exit, string Output)> RunAsync(string program, string package, params string[] args) =>
        RunAsync(Require(program, package), TimeSpan.FromSeconds(120), args);

    /// <summary>Runs <paramref name="path"/> (or a program found on PATH) to its end, at most <paramref name="timeout"/>.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string path, TimeSpan timeout, IEnumerable<string> args)
    {
        using var process = Process.Start(StartInfo(path, args))!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await Command.WaitOrKillAsync(process, timeout, $"{path} {string.Join(' ', args)}");
        return (process.ExitCode, await output + await error);
    }

    /// <summary>
    /// Starts a server peer in the foreground (its path from <see cref="Require"/>), every line it prints handed to
    /// <paramref name="onLine"/> or dropped, for the test to end with <see cref="StopAsync"/>.
    /// </summary>
    public static Process Start(string path, IEnumerable<string> arguments, Action<string>? onLine = null)
    {
        var process = Process.Start(StartInfo(path, arguments))!;
        DataReceivedEventHandler line = (_, e) =>
        {
            if (e.Data is not null)
            {
                onLine?.Invoke(e.Data);
            }
        };
        process.OutputDataReceived += line;
        process.ErrorDataReceived += line;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Kills a peer from <see cref="Start"/> and the processes it started, and waits for it.</summary>
    public static async Task StopAsync(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }

    private static ProcessStartInfo StartInfo(string path, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        return info;
    }

    public static Task<(int Exit, string Output)> SwaksAsync(params string[] args) => RunAsync("swaks", "swaks", args);

    public static Task<(int Exit, string Output)> SmtpSourceAsync(params string[] args) => RunAsync("smtp-source", "postfix", args);
}
