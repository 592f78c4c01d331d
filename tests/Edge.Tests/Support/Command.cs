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
}
