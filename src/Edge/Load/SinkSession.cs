using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Edge.Mail;
using Edge.Smtp.Data;
using Edge.Smtp.Protocol;
using Edge.Smtp.Proxy;

namespace Edge.Load;

/// <summary>
/// One connection to <c>edge sink</c>: Edge's own framing, command parser and DATA decoder (strict line endings, so
/// that smuggled commands stay content), answers by the sink's options, and content counted and thrown away (or kept).
/// Every complete command in what the client sent is answered before the replies go out in one write, so a pipelined
/// group gets one answer; a command whose reply is delayed (or waits for the policy) sends those before it first.
/// </summary>
internal sealed partial class SinkSession(SinkSettings sink, SinkConnection connection) : IContentSink
{
    private enum Mode : byte
    {
        Command,
        /// <summary>The rest of a command line longer than the limit, thrown away as it comes.</summary>
        SkipLine,
        Data,
        Bdat,
    }

    private enum Next : byte
    {
        Go,
        StartTls,
        Close,
    }

    private const int LineLimit = 4096;

    private readonly SinkStats _stats = sink.Stats;
    private readonly SinkOptions _options = sink.Options;
    private readonly DataScanner _scanner = new();
    private PipeReader _input = connection.Input;
    private PipeWriter _output = connection.Output;
    private SslStream? _tls;
    private byte[] _line = [];
    private Mode _mode;
    private IPEndPoint? _client = connection.Remote;
    private IPEndPoint? _server = connection.Local;

    /// <summary>When the client last sent something or was answered (Environment.TickCount64), for the idle watchdog;
    /// in the future while the sink itself makes the client wait.</summary>
    public long LastActive { get; private set; } = Environment.TickCount64;

    /// <summary>The sink's own wait (--greeting-delay, --delay): the watchdog's clock starts again after it.</summary>
    private Task DelayAsync(TimeSpan delay)
    {
        LastActive = Environment.TickCount64 + (long)delay.TotalMilliseconds;
        return Task.Delay(delay, connection.Closed);
    }

    /// <summary>Replies written since the last flush.</summary>
    private bool _unflushed;

    /// <summary>A 421 reply was written: the connection ends once it is sent.</summary>
    private bool _closing;

    /// <summary>The policy refused the client at connect with a 5XX greeting: every command but QUIT and NOOP is refused (RFC 5321, 3.1).</summary>
    private bool _refusedAtGreeting;

    public async Task RunAsync()
    {
        _stats.Connected();
        bool quit = false;
        _line = ArrayPool<byte>.Shared.Rent(LineLimit);
        try
        {
            if (_options.Proxy && !await ReadProxyHeaderAsync())
            {
                return;
            }
            long connected = Stopwatch.GetTimestamp();
            if (_options.GreetingDelay > TimeSpan.Zero)
            {
                await DelayAsync(_options.GreetingDelay);
            }
            string? refusal = await AskPolicyAsync("CONNECT");
            if (refusal is not null && refusal[0] == '4')
            {
                // A greeting cannot be 450: a client deferred at connect is told 421 and the connection ends.
                refusal = "421" + refusal[3..];
            }
            _refusedAtGreeting = refusal is not null;
            Reply(refusal is null ? sink.Greeting : System.Text.Encoding.UTF8.GetBytes(refusal));
            _stats.Record(SinkStats.Greeting, Stopwatch.GetElapsedTime(connected));
            await FlushAsync();
            quit = _closing || await LoopAsync();
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or AuthenticationException
                                       or System.Net.Sockets.SocketException)
        {
            // The client went away, timed out, or the sink dropped it: counted below.
        }
        finally
        {
            if (!quit && !_dropped)
            {
                _stats.LostConnection();
            }
            _stats.Disconnected();
            DiscardKept();
            ArrayPool<byte>.Shared.Return(_line);
            if (_tls is not null)
            {
                await _input.CompleteAsync();
                // Every reply owed was flushed; completing with an error sends nothing more (a send now could wait for a
                // client that reads nothing, on the thread that serves other connections).
                await _output.CompleteAsync(new OperationCanceledException());
                _tls.Dispose();
            }
        }
    }

    /// <summary>Reads and answers until QUIT (true) or the end of the connection (false).</summary>
    private async Task<bool> LoopAsync()
    {
        while (true)
        {
            ReadResult result = await _input.ReadAsync();
            LastActive = Environment.TickCount64;
            ReadOnlySequence<byte> buffer = result.Buffer;
            Next next = Next.Go;
            // A BDAT chunk of no bytes (BDAT 0 LAST) is answered without waiting for input.
            while (next == Next.Go && (!buffer.IsEmpty || (_mode == Mode.Bdat && _chunkLeft == 0)))
            {
                switch (_mode)
                {
                    case Mode.Data:
                        if (await DataAsync(buffer) is { } rest)
                        {
                            buffer = rest;
                            if (_dropped)
                            {
                                return false;
                            }
                            break;
                        }
                        buffer = buffer.Slice(buffer.End);
                        break;
                    case Mode.Bdat:
                        buffer = await ChunkAsync(buffer);
                        if (_dropped)
                        {
                            return false;
                        }
                        break;
                    case Mode.SkipLine:
                        if (LineFramer.SkipRestOfLine(ref buffer))
                        {
                            _mode = Mode.Command;
                        }
                        break;
                    default:
                        LineStatus status = LineFramer.TryReadLine(ref buffer, LineLimit, out ReadOnlySequence<byte> line, out _, out bool skipRest);
                        if (status == LineStatus.NeedMore)
                        {
                            goto needMore;
                        }
                        int length = (int)line.Length;
                        line.CopyTo(_line);
                        next = await CommandAsync(length, status == LineStatus.Truncated);
                        // The rest of an over-long line is thrown away as it comes, unless the command changed what comes next.
                        if (skipRest && _mode == Mode.Command)
                        {
                            _mode = Mode.SkipLine;
                        }
                        break;
                }
                if (_closing)
                {
                    next = Next.Close;
                }
            }
        needMore:
            if (next == Next.StartTls)
            {
                // Whatever the client sent after STARTTLS in the clear is thrown away, never read as commands after the handshake.
                _input.AdvanceTo(buffer.End);
                await FlushAsync();
                await StartTlsAsync();
                continue;
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
            await FlushAsync();
            if (next == Next.Close)
            {
                return true;
            }
            if (result.IsCompleted)
            {
                return false;
            }
        }
    }

    private async ValueTask FlushAsync()
    {
        if (_unflushed)
        {
            _unflushed = false;
            await _output.FlushAsync();
        }
        LastActive = Environment.TickCount64;
    }

    /// <summary>Writes a reply line (CRLF added unless it ends in one) and counts its code; after a 421 the connection ends.</summary>
    private void Reply(ReadOnlySpan<byte> reply)
    {
        _closing |= reply.StartsWith("421"u8);
        new ReplyWriter(_output).Write(reply);
        if (reply.Length < 2 || reply[^1] != (byte)'\n')
        {
            new ReplyWriter(_output).CrLf();
        }
        _unflushed = true;
        if (reply.Length >= 3 && reply[0] is >= (byte)'1' and <= (byte)'5')
        {
            _stats.Reply((reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0'));
        }
    }

    private void Reply(string reply) => Reply(System.Text.Encoding.UTF8.GetBytes(reply));

    /// <summary>--proxy: the load balancer's header names the client, within smtpd_upstream_proxy_timeout.</summary>
    private async Task<bool> ReadProxyHeaderAsync()
    {
        (ProxyReadOutcome outcome, IPEndPoint? source, IPEndPoint? destination, string? error) =
            await ProxyHeaderReader.ReadAsync(_input, sink.ProxyTimeout, connection.Closed);
        if (outcome != ProxyReadOutcome.Done)
        {
            Logging.MailLog.Warning($"edge sink: {_client}: {(outcome == ProxyReadOutcome.Invalid ? error : $"no PROXY header ({outcome})")}", "sink");
            return false;
        }
        _client = source ?? _client;
        _server = destination ?? _server;
        return true;
    }

    private async Task StartTlsAsync()
    {
        long started = Stopwatch.GetTimestamp();
        // Kept before the handshake, so that a handshake that fails is disposed with the session.
        _tls = new SslStream(connection.Stream, leaveInnerStreamOpen: true);
        using (var handshake = CancellationTokenSource.CreateLinkedTokenSource(connection.Closed))
        {
            handshake.CancelAfter(sink.Timeout);
            await _tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = sink.Certificate }, handshake.Token);
        }
        _input = PipeReader.Create(_tls, new StreamPipeReaderOptions(leaveOpen: true, useZeroByteReads: true));
        _output = PipeWriter.Create(_tls, new StreamPipeWriterOptions(leaveOpen: true));
        _stats.Record(SinkStats.StartTls, Stopwatch.GetElapsedTime(started));
        // RFC 3207: the client starts again from EHLO; nothing said before the handshake counts.
        _mode = Mode.Command;
        ResetTransaction();
        _helo = null;
    }

    /// <summary>The watchdog's verdict: a client silent for longer than smtpd_timeout is disconnected.</summary>
    public void Abort() => connection.Abort();
}
