using System.Runtime.InteropServices;

namespace Edge.Cli;

/// <summary>Signals sent to another process (kill(2)), by Linux's numbers.</summary>
internal static partial class ProcessSignal
{
    public const int Terminate = 15;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; null, or why it could not be sent.</summary>
    public static string? Send(int pid, int signal) =>
        Kill(pid, signal) == 0 ? null : Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
