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

    public static async Task<(int Exit, string Output)> RunAsync(string program, string package, params string[] args)
    {
        var info = new ProcessStartInfo(Require(program, package))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output + await error);
    }

    public static Task<(int Exit, string Output)> SwaksAsync(params string[] args) => RunAsync("swaks", "swaks", args);

    public static Task<(int Exit, string Output)> SmtpSourceAsync(params string[] args) => RunAsync("smtp-source", "postfix", args);
}
