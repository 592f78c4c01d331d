using System.Buffers;
using System.IO.Pipelines;
using System.Net;

namespace Edge.Smtp.Proxy;

/// <summary>How reading a load balancer's PROXY header ended.</summary>
internal enum ProxyReadOutcome : byte
{
    Done,
    Invalid,
    Lost,
    Timeout,
}

/// <summary>Reads the PROXY header a load balancer sends before anything else, for smtpd and postscreen alike.</summary>
internal static class ProxyHeaderReader
{
    /// <summary>
    /// The header's source and destination (the client, and the address it connected to), when it names them (a LOCAL or
    /// UNKNOWN header names none); <paramref name="error"/> says what was wrong with an invalid one. Throws
    /// OperationCanceledException only for <paramref name="hardStop"/>.
    /// </summary>
    public static async ValueTask<(ProxyReadOutcome Outcome, IPEndPoint? Source, IPEndPoint? Destination, string? Error)> ReadAsync(PipeReader input, TimeSpan timeout,
        CancellationToken hardStop)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(hardStop);
        deadline.CancelAfter(timeout);
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync(deadline.Token);
                ReadOnlySequence<byte> buffer = result.Buffer;
                switch (ProxyHeader.TryParse(buffer, out SequencePosition consumed, out IPEndPoint? source, out IPEndPoint? destination, out string? error))
                {
                    case ProxyParseStatus.Done:
                        input.AdvanceTo(consumed);
                        return (ProxyReadOutcome.Done, source, destination, null);
                    case ProxyParseStatus.Invalid:
                        input.AdvanceTo(buffer.End);
                        return (ProxyReadOutcome.Invalid, null, null, error);
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    return (ProxyReadOutcome.Lost, null, null, null);
                }
            }
        }
        catch (OperationCanceledException) when (!hardStop.IsCancellationRequested)
        {
            return (ProxyReadOutcome.Timeout, null, null, null);
        }
    }
}
