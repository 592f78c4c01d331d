using System.Globalization;
using Edge.Load;

namespace Edge.Cli;

/// <summary>
/// edge source [options] HOST:PORT: a load generator in the spirit of Postfix's smtp-source; the report goes to
/// standard output (text, or JSON with --json). Exits 1 when no message was accepted.
/// </summary>
internal static class SourceCommand
{
    private const string TieredPgo = "DOTNET_TieredPGO";

    /// <summary>From the command line: Ctrl-C (or SIGTERM) ends the run, and the report says what was done until then.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        SourceOptions options = Parse(args);
        // The runtime's profile-guided recompiling of hot code pays off in a server that runs for days; in a run of a few
        // seconds it is CPU taken from the load (see perf/RESULTS.md). The runtime reads the setting only as it starts, so
        // the run is made by a child process that has it, unless the caller has chosen for themselves.
        if (Environment.GetEnvironmentVariable(TieredPgo) is null)
        {
            return await SelfCommand.RunChildAsync(["source", .. args], new Dictionary<string, string> { [TieredPgo] = "0" });
        }
        SelfCommand.EndWithParent();
        // Socket completions run on the event threads, and the sessions with them (one thread hop less a reply); --threads
        // of them. The runtime reads both settings as the first socket is made.
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", options.Threads.ToString(CultureInfo.InvariantCulture));
        using var stop = new StopSignals();
        return await RunAsync(options, Console.Out, stop.Token);
    }

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, CancellationToken cancellationToken) =>
        await RunAsync(Parse(args), output, cancellationToken);

    private static SourceOptions Parse(IReadOnlyList<string> args) => SourceOptions.Parse(args, out string? error) ?? throw new UsageException(error!);

    private static async Task<int> RunAsync(SourceOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        (SourceStats stats, TimeSpan elapsed) = await new SourceRun(options).RunAsync(cancellationToken);
        await output.WriteAsync(options.Json ? SourceReport.Json(options, stats, elapsed) : SourceReport.Text(options, stats, elapsed));
        return stats.Accepted > 0 ? 0 : 1;
    }
}
