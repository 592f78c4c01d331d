using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Edge.Load;

/// <summary>
/// One client's socket as edge sink's session uses it: pipes straight over the socket (a read is a receive, a flush a
/// send, on the thread the socket's completion runs on), with none of a general server's layers between them.
/// </summary>
internal sealed class SinkConnection : IDisposable
{
    private static long s_ids;
    private readonly Socket _socket;
    private CancellationTokenSource? _closed;

    public SinkConnection(Socket socket)
    {
        _socket = socket;
        Stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(Stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096, leaveOpen: true));
        Output = PipeWriter.Create(Stream, new StreamPipeWriterOptions(leaveOpen: true));
        Remote = socket.RemoteEndPoint as IPEndPoint;
        Local = socket.LocalEndPoint as IPEndPoint;
    }

    public NetworkStream Stream { get; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public IPEndPoint? Remote { get; }

    public IPEndPoint? Local { get; }

    /// <summary>A number for the connection, unique in the sink's run (a policy's instance attribute).</summary>
    public long Id { get; } = Interlocked.Increment(ref s_ids);

    /// <summary>Cancelled when the connection is aborted; made on first use (most sessions never wait on it).</summary>
    public CancellationToken Closed
    {
        get
        {
            if (_closed is null)
            {
                Interlocked.CompareExchange(ref _closed, new CancellationTokenSource(), null);
                if (Volatile.Read(ref _aborted))
                {
                    // Aborted while the source was being made: it is cancelled here, since Abort found none.
                    _closed.Cancel();
                }
            }
            return _closed.Token;
        }
    }

    private bool _aborted;

    /// <summary>Ends the connection now: what waits on it fails, the client sees it closed.</summary>
    public void Abort()
    {
        Volatile.Write(ref _aborted, true);
        try
        {
            Volatile.Read(ref _closed)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session ended meanwhile.
        }
        _socket.Dispose();
    }

    /// <summary>Gives the pipes' buffers back and closes the socket. Every reply owed was flushed: completing the writer with
    /// an error sends nothing more (a send now could wait on a client that reads nothing).</summary>
    public void Dispose()
    {
        Input.Complete();
        Output.Complete(new OperationCanceledException());
        Stream.Dispose();
        _closed?.Dispose();
    }
}
