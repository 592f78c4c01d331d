using System.Diagnostics;

namespace Edge.Tests.Support;

/// <summary>A system program's standard output, trimmed (id -u, stat -c …): what the tests compare Edge's work with.</summary>
public static class Command
{
    public static async Task<string> OutputAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true })!;
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return output.Trim();
    }

    /// <summary>
    /// Waits for <paramref name="process"/> to end, at most <paramref name="timeout"/>: past it, the process and those it
    /// started are killed (nothing is left running for the rest of the tests) and the test fails naming <paramref name="what"/>.
    /// </summary>
    public static async Task WaitOrKillAsync(Process process, TimeSpan timeout, string what)
    {
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not end in {timeout.TotalSeconds} s");
        }
    }
}
