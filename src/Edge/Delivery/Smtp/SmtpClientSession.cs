using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Edge.Metrics;

namespace Edge.Delivery.Smtp;

/// <summary>
/// One connection to a server: commands queued into a pooled buffer and written in one go (a pipelined group
/// is one write), replies read in order, STARTTLS, and what the server's EHLO announced.
/// </summary>
internal sealed class SmtpClientSession : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly ReplyReader _replies;
    private readonly long _openedAt = Environment.TickCount64;
    private Stream _stream;
    private byte[] _output = ArrayPool<byte>.Shared.Rent(1024);
    private int _outputCount;
    private bool _disposed;

    private SmtpClientSession(NextHopServer server, Socket socket)
    {
        Server = server;
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _replies = new ReplyReader(_stream);
    }

    public NextHopServer Server { get; }

    public EhloFeatures Features { get; set; } = EhloFeatures.None;

    /// <summary>The connection as a stream, for message content (after the commands queued so far were flushed).</summary>
    public Stream Stream => _stream;

    public TimeSpan Age => TimeSpan.FromMilliseconds(Environment.TickCount64 - _openedAt);

    /// <summary>Connects; a refused or unreachable server is a <see cref="SocketException"/>.</summary>
    public static async Task<SmtpClientSession> ConnectAsync(NextHopServer server, CancellationToken cancellationToken)
    {
        bool tcp = server.Endpoint.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;
        var socket = new Socket(server.Endpoint.AddressFamily, SocketType.Stream, tcp ? ProtocolType.Tcp : ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(server.Endpoint, cancellationToken);
            if (tcp)
            {
                // Commands leave in whole groups already; Nagle would only hold back the last segment of each.
                socket.NoDelay = true;
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new SmtpClientSession(server, socket);
    }

    /// <summary>Whether an exception means the conversation broke (closed, reset, timed out, garbled TLS).</summary>
    public static bool IsTransportFailure(Exception e) =>
        e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or AuthenticationException;

    /// <summary>Adds a command line (CRLF appended) to the next write.</summary>
    public void Queue(string command)
    {
        int most = Encoding.UTF8.GetMaxByteCount(command.Length) + 2;
        if (_outputCount + most > _output.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_output.Length * 2, _outputCount + most));
            _output.AsSpan(0, _outputCount).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_output);
            _output = larger;
        }
        _outputCount += Encoding.UTF8.GetBytes(command, _output.AsSpan(_outputCount));
        _output[_outputCount++] = (byte)'\r';
        _output[_outputCount++] = (byte)'\n';
    }

    /// <summary>Writes the queued commands. Nothing may be queued until it completes.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        int count = _outputCount;
        _outputCount = 0;
        await _stream.WriteAsync(_output.AsMemory(0, count), cancellationToken);
    }

    public ValueTask<SmtpReply> ReadReplyAsync(CancellationToken cancellationToken) => _replies.ReadAsync(cancellationToken);

    public async ValueTask<SmtpReply> CommandAsync(string command, CancellationToken cancellationToken)
    {
        Queue(command);
        await FlushAsync(cancellationToken);
        return await ReadReplyAsync(cancellationToken);
    }

    /// <summary>The TLS handshake after "220" to STARTTLS; a failed one is an AuthenticationException or IOException.</summary>
    public async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = Server.HostName,
            // The may and encrypt levels encrypt without authenticating the server, as in Postfix: MX host
            // names are not authenticated by DNS, so a certificate check would prove nothing without DANE.
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        };
        try
        {
            await tls.AuthenticateAsClientAsync(options, cancellationToken);
            EdgeMetrics.TlsHandshakes.Add(1, EdgeMetrics.Tag("role", "client"), EdgeMetrics.Tag("result", "ok"));
        }
        catch
        {
            EdgeMetrics.TlsHandshakes.Add(1, EdgeMetrics.Tag("role", "client"), EdgeMetrics.Tag("result", "failed"));
            await tls.DisposeAsync();
            throw;
        }
        _stream = tls;
        _replies.Restart(tls);
    }

    /// <summary>Closes the socket at once, failing any read or write in progress, but keeps the buffers until disposal.</summary>
    public void Abort() => _socket.Close();

    /// <summary>Says QUIT and waits (at most <paramref name="timeout"/>) for the reply, then closes.</summary>
    public async Task QuitAsync(TimeSpan timeout)
    {
        using (var deadline = new StageDeadline(CancellationToken.None))
        {
            deadline.Start(timeout);
            try
            {
                await CommandAsync("QUIT", deadline.Token);
            }
            catch (Exception e) when (IsTransportFailure(e))
            {
                // The server may hang up first; the connection is closing either way.
            }
        }
        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _stream.DisposeAsync();
        _socket.Dispose();
        _replies.Dispose();
        ArrayPool<byte>.Shared.Return(_output);
        _output = [];
    }
}
