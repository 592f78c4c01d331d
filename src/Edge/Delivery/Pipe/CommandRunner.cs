using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.Versioning;
using Edge.Queue;
using Edge.Unix;

namespace Edge.Delivery.Pipe;

/// <summary>
/// Runs one delivery command for pipe(8) and local(8): as the given account through setpriv(1) when Edge runs as
/// root, in a session of its own (setsid(1)), with only the environment it is given (and PATH reset), in a directory,
/// the message written to its standard input by the caller, its output kept for the reason. At the time limit its
/// whole process group is killed, as Postfix's pipe_command() kills it: what it left running in the background
/// (holding the output open) goes too. The exit status means what Postfix's
/// pipe_command() makes of it: 0 delivered, sysexits.h codes by their DSN class, a signal deferred, anything else
/// or the time limit bounced.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static partial class CommandRunner
{
    /// <summary>How much of the command's output goes into the reason, as Postfix keeps a bounded log buffer.</summary>
    private const int OutputLimit = 2000;

    private const string SetPriv = "/usr/bin/setpriv";
    private const string SetSid = "/usr/bin/setsid";

    /// <summary>
    /// The status, DSN code and reason; on success the reason is <paramref name="delivered"/> with the command's output.
    /// <paramref name="text"/> is the command as reasons quote it.
    /// </summary>
    public static async Task<(DeliveryStatus Status, string Dsn, string Reason)> RunAsync(IReadOnlyList<string> argv, string text,
        (uint Uid, uint Gid) account, IReadOnlyDictionary<string, string> environment, string workingDirectory, TimeSpan timeLimit,
        Func<Stream, CancellationToken, Task> writeMessageAsync, string delivered, CancellationToken cancellationToken)
    {
        if (!Environment.IsPrivilegedProcess && UnixAccount.EffectiveUid != account.Uid)
        {
            return (DeliveryStatus.Deferred, "4.3.0", $"cannot run \"{text}\" as uid {account.Uid}: Edge is not running as root");
        }
        using Process process = new() { StartInfo = StartInfo(argv, account, environment, workingDirectory) };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return (DeliveryStatus.Deferred, "4.3.0", $"Command failed: {e.Message}: \"{text}\"");
        }
        var output = new CommandOutput(OutputLimit);
        Task reading = Task.WhenAll(output.DrainAsync(process.StandardOutput.BaseStream), output.DrainAsync(process.StandardError.BaseStream));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeLimit);
        try
        {
            await WriteAsync(process.StandardInput.BaseStream, writeMessageAsync, deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
            await reading.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            // setsid made the command's pid its process group.
            _ = Kill(-process.Id, SigKill);
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            return (DeliveryStatus.Bounced, "5.3.0", $"Command time limit exceeded: \"{text}\"{output.Suffix}");
        }
        return Outcome(process.ExitCode, text, output.Suffix, delivered);
    }

    private static (DeliveryStatus, string, string) Outcome(int exitCode, string text, string output, string delivered)
    {
        if (exitCode == 0)
        {
            return (DeliveryStatus.Sent, "2.0.0", delivered + output);
        }
        // .NET reports a death by signal N as 128 + N, as the shell does.
        if (exitCode > 128)
        {
            return (DeliveryStatus.Deferred, "4.3.0", $"Command died with signal {exitCode - 128}: \"{text}\"{output}");
        }
        if (SysExits.Lookup(exitCode) is { } known)
        {
            return (known.Dsn[0] == '4' ? DeliveryStatus.Deferred : DeliveryStatus.Bounced, known.Dsn, known.Text + output);
        }
        return (DeliveryStatus.Bounced, "5.3.0", $"Command died with status {exitCode}: \"{text}\"{output}");
    }

    /// <summary>A command that exits without reading all of the message is judged by its exit status alone, as Postfix ignores EPIPE.</summary>
    private static async Task WriteAsync(Stream input, Func<Stream, CancellationToken, Task> writeMessageAsync, CancellationToken cancellationToken)
    {
        try
        {
            await using (input)
            {
                await writeMessageAsync(input, cancellationToken);
            }
        }
        catch (IOException)
        {
        }
    }

    private static ProcessStartInfo StartInfo(IReadOnlyList<string> argv, (uint Uid, uint Gid) account,
        IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        // The child of .NET's fork is no process group leader, so setsid(1) makes the session without forking again.
        start.FileName = SetSid;
        IEnumerable<string> arguments = Environment.IsPrivilegedProcess
            ? [SetPriv, $"--reuid={account.Uid}", $"--regid={account.Gid}", $"--groups={account.Gid}", "--", .. argv]
            : argv;
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment.Clear();
        // Postfix's pipe_command() always resets the search path.
        start.Environment["PATH"] = "/usr/bin:/bin";
        foreach ((string name, string value) in environment)
        {
            start.Environment[name] = value;
        }
        return start;
    }

    private const int SigKill = 9;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);
}
