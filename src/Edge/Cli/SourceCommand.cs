using Edge.Load;

namespace Edge.Cli;

/// <summary>
/// edge source [options] HOST:PORT: a load generator in the spirit of Postfix's smtp-source; the report goes to
/// standard output (text, or JSON with --json). Exits 1 when no message was accepted.
/// </summary>
internal static class SourceCommand
{
    /// <summary>From the command line: Ctrl-C (or SIGTERM) ends the run, and the report says what was done until then.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        // Socket completions run on the epoll thread, the session's reply handling with them: one thread hop less a reply.
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        using var stop = new StopSignals();
        return await RunAsync(args, Console.Out, stop.Token);
    }

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, CancellationToken cancellationToken)
    {
        SourceOptions options = SourceOptions.Parse(args, out string? error) ?? throw new UsageException(error!);
        (SourceStats stats, TimeSpan elapsed) = await new SourceRun(options).RunAsync(cancellationToken);
        await output.WriteAsync(options.Json ? SourceReport.Json(options, stats, elapsed) : SourceReport.Text(options, stats, elapsed));
        return stats.Accepted > 0 ? 0 : 1;
    }
}
