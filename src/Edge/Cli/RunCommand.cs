using System.Runtime.InteropServices;
using Edge.Hosting;

namespace Edge.Cli;

/// <summary>edge run [-c DIR]: the server in the foreground until SIGTERM or Ctrl-C; SIGHUP reloads.</summary>
internal static class RunCommand
{
    public static async Task<int> RunAsync(CommandLine line)
    {
        // Socket completions run on the epoll thread rather than on the thread pool (read once, when the
        // first socket is made): with Kestrel's inline scheduling, a command is read, handled and answered
        // on one thread.
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        using var stop = new StopSignals();
        // SIGHUP is taken from the start: one that comes while the server starts (a log rotation, a deployment that
        // reloads at once) reloads it as soon as it runs, rather than being lost.
        var gate = new object();
        EdgeServer? running = null;
        bool reloadWhenRunning = false;
        using PosixSignalRegistration hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
        {
            c.Cancel = true;
            // Under the lock: a shutdown that begins meanwhile waits for the reload instead of taking the server apart under it.
            lock (gate)
            {
                reloadWhenRunning |= running is null && !stop.Token.IsCancellationRequested;
                try
                {
                    running?.Reload();
                }
                catch (Exception e)
                {
                    // A signal handler must not take the server down: what failed is said, the running configuration stays.
                    Logging.MailLog.Warning($"reload failed, the running configuration stays in force: {e.Message}", "master");
                }
            }
        });
        await using EdgeServer server = await EdgeServer.StartAsync(line.ConfigDirectory, stop.Token);
        bool reload;
        lock (gate)
        {
            running = server;
            reload = reloadWhenRunning;
        }
        if (reload)
        {
            server.Reload();
        }
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // SIGTERM or Ctrl-C: fall through to the orderly shutdown.
        }
        finally
        {
            // A SIGHUP during the shutdown reloads nothing: the server is being taken apart.
            lock (gate)
            {
                running = null;
            }
        }
        return 0;
    }
}
