using System.Net;
using Edge.Load;

namespace Edge.Cli;

/// <summary>
/// edge sink [options] [-c DIR] ADDRESS:PORT: a receiving server for load tests, in the spirit of Postfix's smtp-sink,
/// until SIGTERM or Ctrl-C; the summary goes to standard output then (and every --report seconds), text or JSON.
/// </summary>
internal static class SinkCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        // As edge run: socket completions run on the epoll thread, and the session with them.
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        using var stop = new StopSignals();
        return await RunAsync(args, Console.Out, Console.Error, stop.Token);
    }

    /// <param name="listening">Told where the sink listens once it does (a test that asked for port 0 learns the port).</param>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter errors, CancellationToken stop,
        Action<IPEndPoint>? listening = null)
    {
        SinkOptions options = SinkOptions.Parse(args, out string? error) ?? throw new UsageException(error!);
        SinkSettings settings;
        try
        {
            settings = SinkSettings.Load(options, warning => errors.WriteLine($"edge sink: warning: {warning}"));
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
        await using (settings)
        {
            await using SinkServer server = await SinkServer.StartAsync(settings, stop);
            string where = server.Endpoint.ToString();
            await errors.WriteLineAsync($"edge sink: listening on {where}");
            listening?.Invoke(server.Endpoint);
            string Report() => options.Json ? SinkReport.Json(where, server.Stats, server.Elapsed) : SinkReport.Text(where, server.Stats, server.Elapsed);
            try
            {
                if (options.ReportEvery is { } every)
                {
                    using var timer = new PeriodicTimer(every);
                    while (await timer.WaitForNextTickAsync(stop))
                    {
                        await output.WriteAsync(Report());
                        await output.FlushAsync(CancellationToken.None);
                    }
                }
                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (OperationCanceledException)
            {
                // SIGTERM or Ctrl-C: the summary, then stop.
            }
            await output.WriteAsync(Report());
        }
        return 0;
    }
}
