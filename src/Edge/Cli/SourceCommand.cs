using System.Globalization;
using Edge.Load;

namespace Edge.Cli;

/// <summary>
/// edge source [options] HOST:PORT: a load generator in the spirit of Postfix's smtp-source; the report goes to
/// standard output (text, or JSON with --json). Exits 1 when no message was accepted.
/// </summary>
internal static class SourceCommand
{
    /// <summary>The native build of the run (src/Edge.Source), which the command runs when it is next to this program.</summary>
    public const string NativeProgram = "edge-source";

    private const string TieredPgo = "DOTNET_TieredPGO";

    /// <summary>From the command line: Ctrl-C (or SIGTERM) ends the run, and the report says what was done until then.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        // A load generator's CPU is taken from the server under test when both run on one machine, and .NET's start and
        // JIT cost ~0.4 s of CPU a run, which the native build does not spend (see perf/RESULTS.md). So the run is made by
        // that program in place of this one, in this process, before this one does anything else: the options are its.
        string native = Path.Combine(AppContext.BaseDirectory, NativeProgram);
        if (File.Exists(native))
        {
            Exec.Replace([native, .. args], new Dictionary<string, string>());
        }
        SourceOptions options = Parse(args);
        // Without it, the run is made at least without the runtime's profile-guided recompiling of hot code, which pays
        // off in a server that runs for days and not in a run of seconds. The runtime reads the setting only as it starts:
        // this program starts again in its own place with it, unless the caller has chosen for themselves.
        if (Environment.GetEnvironmentVariable(TieredPgo) is null)
        {
            Exec.Replace([.. SelfCommand.Invocation(), "source", .. args], new Dictionary<string, string> { [TieredPgo] = "0" });
        }
        return await RunHereAsync(options);
    }

    /// <summary>The run in this process, as the command (this program or the native one) makes it.</summary>
    public static async Task<int> RunHereAsync(IReadOnlyList<string> args) => await RunHereAsync(Parse(args));

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, CancellationToken cancellationToken) =>
        await RunAsync(Parse(args), output, cancellationToken);

    private static SourceOptions Parse(IReadOnlyList<string> args) => SourceOptions.Parse(args, out string? error) ?? throw new UsageException(error!);

    private static async Task<int> RunHereAsync(SourceOptions options)
    {
        // Socket completions run on the event threads, and the sessions with them (one thread hop less a reply); --threads
        // of them. The runtime reads both settings as the first socket is made.
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", options.Threads.ToString(CultureInfo.InvariantCulture));
        using var stop = new StopSignals();
        return await RunAsync(options, Console.Out, stop.Token);
    }

    private static async Task<int> RunAsync(SourceOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        (SourceStats stats, TimeSpan elapsed) = await new SourceRun(options).RunAsync(cancellationToken);
        await output.WriteAsync(options.Json ? SourceReport.Json(options, stats, elapsed) : SourceReport.Text(options, stats, elapsed));
        return stats.Accepted > 0 ? 0 : 1;
    }
}
