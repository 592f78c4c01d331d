using System.Runtime.InteropServices;

namespace Edge.Cli;

/// <summary>SIGTERM and Ctrl-C (SIGINT) as a cancellation: how a command that runs in the foreground is told to stop in order.</summary>
internal sealed class StopSignals : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration _term;
    private readonly PosixSignalRegistration _interrupt;

    public StopSignals()
    {
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    }

    public CancellationToken Token => _stop.Token;

    private void Stop(PosixSignalContext context)
    {
        // Handled here: the process ends when the command has finished, not at once.
        context.Cancel = true;
        _stop.Cancel();
    }

    /// <summary>
    /// Stops listening. The cancellation source is left to the collector, not disposed: a handler already running on the
    /// signal thread (or the server's SIGHUP handler reading the token) must not meet a disposed one as the process exits.
    /// </summary>
    public void Dispose()
    {
        _term.Dispose();
        _interrupt.Dispose();
    }
}
