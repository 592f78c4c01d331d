using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Edge.Cli;

/// <summary>This program run again: by its own executable, or, run as "dotnet edge.dll", by the host with the assembly.</summary>
internal static partial class SelfCommand
{
    /// <summary>The parent's process ID, in the environment of a child <see cref="RunChildAsync"/> starts.</summary>
    private const string ParentVariable = "EDGE_PARENT_PID";

    private const int PrSetParentDeathSignal = 1;

    /// <summary>The program, and the arguments before a command's own, that run this program again.</summary>
    public static IEnumerable<string> Invocation()
    {
        string program = Environment.ProcessPath!;
        yield return program;
        if (Path.GetFileNameWithoutExtension(program) == "dotnet")
        {
            yield return Environment.GetCommandLineArgs()[0];
        }
    }

    /// <summary>
    /// Runs this program again in the foreground with <paramref name="args"/> and <paramref name="environment"/> added to
    /// this process's: its standard streams are this process's, SIGTERM and SIGINT are passed on to it (this process ends
    /// when it has), and its exit code is returned.
    /// </summary>
    public static async Task<int> RunChildAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string> environment)
    {
        string[] invocation = [.. Invocation()];
        var start = new ProcessStartInfo(invocation[0]) { UseShellExecute = false };
        foreach (string arg in invocation.Skip(1).Concat(args))
        {
            start.ArgumentList.Add(arg);
        }
        foreach ((string name, string value) in environment)
        {
            start.Environment[name] = value;
        }
        start.Environment[ParentVariable] = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var gate = new Lock();
        // The child's process ID once it runs, -1 once it has ended; a signal that comes before it runs is passed on when it does.
        int child = 0;
        int pending = 0;
        void Forward(PosixSignalContext context, int signal)
        {
            context.Cancel = true;
            lock (gate)
            {
                if (child == 0)
                {
                    pending = signal;
                }
                else if (child > 0)
                {
                    _ = ProcessSignal.Send(child, signal);
                }
            }
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Forward(context, ProcessSignal.Terminate));
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Forward(context, ProcessSignal.Interrupt));
        using Process process = Start(start);
        lock (gate)
        {
            child = process.Id;
            if (pending != 0)
            {
                _ = ProcessSignal.Send(child, pending);
            }
        }
        await process.WaitForExitAsync();
        lock (gate)
        {
            child = -1;
        }
        return process.ExitCode;
    }

    /// <summary>
    /// In a child <see cref="RunChildAsync"/> started: SIGTERM when the parent ends, however it ends (kill -9 too, which
    /// it cannot pass on), so that a load generator never runs on by itself.
    /// </summary>
    public static void EndWithParent()
    {
        if (Environment.GetEnvironmentVariable(ParentVariable) is not { } parent)
        {
            return;
        }
        // The signal comes when the thread that started the child ends: RunChildAsync starts it from the main thread.
        _ = SetParentDeathSignal(PrSetParentDeathSignal, ProcessSignal.Terminate);
        // A parent that ended before the signal was asked for.
        if (GetParentProcessId().ToString(System.Globalization.CultureInfo.InvariantCulture) != parent)
        {
            _ = ProcessSignal.Send(Environment.ProcessId, ProcessSignal.Terminate);
        }
    }

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int SetParentDeathSignal(int option, nuint signal);

    [LibraryImport("libc", EntryPoint = "getppid")]
    private static partial int GetParentProcessId();

    private static Process Start(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new IOException($"cannot run {start.FileName}: {e.Message}", e);
        }
    }
}
