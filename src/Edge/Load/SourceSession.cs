using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Text;
using Edge.Smtp.Proxy;

namespace Edge.Load;

/// <summary>
/// The connections of one session slot of <c>edge source</c>, one after the other: connect (with a PROXY header),
/// greeting, EHLO, STARTTLS, the messages the run gives the connection, QUIT; every reply counted by code and every
/// wait timed by stage. A reply that does not come within the timeout (<see cref="Watch"/>), or a connection that
/// breaks, ends the connection as an error. Its buffers serve every connection of the slot.
/// </summary>
internal sealed class SourceSession(SourceOptions options, SourceMessages messages, SourceStats stats, IPEndPoint server)
{
    private readonly byte[] _input = new byte[16 * 1024];
    private readonly ArrayBufferWriter<byte> _output = new(4096);

    /// <summary>
    /// Contents too big to copy into <see cref="_output"/>, each to be sent after the first Offset bytes written there:
    /// the next flush sends them from where they are, with what is written around them, in one send.
    /// </summary>
    private readonly List<(int Offset, ReadOnlyMemory<byte> Content)> _inserts = [];
    private readonly List<ArraySegment<byte>> _segments = [];
    private const int CopyLimit = 16 * 1024;

    /// <summary>The generated headers of the message BDAT sends next, and the rest of it.</summary>
    private readonly ArrayBufferWriter<byte> _chunk = new(1024);
    private ReadOnlyMemory<byte> _chunkRest;
    private readonly byte[] _mail = Encoding.UTF8.GetBytes($"MAIL FROM:<{options.From}>\r\n");
    private readonly bool _recipientPattern = options.To.Contains('{');
    /// <summary>The RCPT TO line when every recipient is the same (no {n} or {r} in --to).</summary>
    private readonly byte[] _rcpt = Encoding.UTF8.GetBytes($"RCPT TO:<{options.To}>\r\n");
    private int _start;
    private int _end;
    private Stream _stream = Stream.Null;
    /// <summary>The connection's socket: closing it is how the watchdog and Ctrl-C stop what waits on it (no cancellation token on every read and write).</summary>
    private Socket? _socket;
    private bool _pipelining;
    private bool _chunking;

    [Flags]
    private enum Extension
    {
        None = 0,
        Pipelining = 1,
        Chunking = 2,
        StartTls = 4,
    }

    /// <summary>What the last EHLO reply offered, of what edge source uses.</summary>
    private Extension _offered;

    private readonly byte[] _ehlo = Encoding.UTF8.GetBytes($"EHLO {options.Helo}\r\n");

    /// <summary>The extension an EHLO reply line names (its first word, without case), if edge source uses it.</summary>
    private static Extension ExtensionOf(ReadOnlySpan<byte> text)
    {
        int space = text.IndexOf((byte)' ');
        ReadOnlySpan<byte> keyword = space < 0 ? text : text[..space];
        return Ascii.EqualsIgnoreCase(keyword, "PIPELINING"u8) ? Extension.Pipelining
            : Ascii.EqualsIgnoreCase(keyword, "CHUNKING"u8) ? Extension.Chunking
            : Ascii.EqualsIgnoreCase(keyword, "STARTTLS"u8) ? Extension.StartTls
            : Extension.None;
    }

    /// <summary>The size of the last message sent with DATA.</summary>
    private int _lastSize;

    /// <summary>When the session last heard from the server or sent to it; 0 between connections.</summary>
    private long _waitingSince;

    /// <summary>The watchdog's round (the run's timer, every second): a connection that waited longer than the timeout is stopped.</summary>
    public void Watch(long now)
    {
        long since = Volatile.Read(ref _waitingSince);
        if (since != 0 && Stopwatch.GetElapsedTime(since, now) > options.Timeout)
        {
            Volatile.Read(ref _socket)?.Dispose();
        }
    }

    /// <param name="number">The connection's number in the run (it chooses the PROXY header's client address).</param>
    /// <param name="first">The number of the connection's first message; it sends <paramref name="count"/>.</param>
    /// <param name="due">Waits until a message may go; false when the run has ended (no more are sent).</param>
    public async Task RunAsync(long number, long first, long count, Func<ValueTask<bool>> due, CancellationToken cancellationToken)
    {
        // The first message is waited for before connecting: no connection is made for nothing at the end of a run.
        if (!await due())
        {
            return;
        }
        stats.Sessions++;
        (_start, _end) = (0, 0);
        // Closed as smtp-source closes, with a reset (no linger): the server's reply to QUIT has been read, and neither side
        // keeps the connection in TIME_WAIT, which would run a long run out of ports and cost both sides CPU a connection.
        using var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, LingerState = new LingerOption(true, 0) };
        using CancellationTokenRegistration stop = cancellationToken.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket);
        Volatile.Write(ref _socket, socket);
        try
        {
            long started = Busy();
            await socket.ConnectAsync(server, cancellationToken);
            stats.Record(SourceStats.Connect, Stopwatch.GetElapsedTime(started));
            started = Busy();
            _stream = new NetworkStream(socket, ownsSocket: false);
            if (options.ProxyVersion > 0)
            {
                IPAddress client = options.ProxyClient(number);
                IPAddress to = client.AddressFamily == server.AddressFamily ? server.Address
                    : client.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback;
                await _stream.WriteAsync(ProxyHeader.Write(options.ProxyVersion, new IPEndPoint(client, 40000 + (int)(number % 20000)),
                    new IPEndPoint(to, server.Port)));
            }
            if (await ReplyAsync(SourceStats.Greeting, started) != 220 || !await HelloAsync())
            {
                stats.SessionErrors++;
                return;
            }
            for (long message = first; message < first + count; message++)
            {
                Volatile.Write(ref _waitingSince, 0);
                if (message > first && !await due())
                {
                    break;
                }
                await MessageAsync(message);
            }
            Write("QUIT\r\n"u8);
            await ReplyAsync(SourceStats.Untimed, await FlushAsync());
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or AuthenticationException or ObjectDisposedException)
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                stats.SessionErrors++;
            }
        }
        finally
        {
            Volatile.Write(ref _waitingSince, 0);
            Volatile.Write(ref _socket, null);
            await _stream.DisposeAsync();
            _stream = Stream.Null;
            _output.ResetWrittenCount();
            _inserts.Clear();
        }
    }

    /// <summary>EHLO, and STARTTLS then EHLO again when asked and offered; false when the server refuses them.</summary>
    private async Task<bool> HelloAsync()
    {
        _offered = Extension.None;
        Write(_ehlo);
        if (await ReplyAsync(SourceStats.Ehlo, await FlushAsync(), ehlo: true) != 250)
        {
            return false;
        }
        if (options.StartTls && (_offered & Extension.StartTls) != 0)
        {
            Write("STARTTLS\r\n"u8);
            if (await ReplyAsync(SourceStats.StartTls, await FlushAsync()) != 220)
            {
                return false;
            }
            var tls = new SslStream(_stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
            Busy();
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = options.Host });
            _stream = tls;
            _offered = Extension.None;
            Write(_ehlo);
            if (await ReplyAsync(SourceStats.Ehlo, await FlushAsync(), ehlo: true) != 250)
            {
                return false;
            }
        }
        _pipelining = (_offered & Extension.Pipelining) != 0;
        _chunking = (_offered & Extension.Chunking) != 0;
        return true;
    }

    /// <summary>One message: lock-step, or MAIL, RCPT and DATA (or BDAT with the content) in one write with --pipelining.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask MessageAsync(long message)
    {
        stats.Messages++;
        string firstRecipient = Recipient(message, 1);
        bool bdat = options.Bdat && _chunking;
        int size = 0;
        if (bdat)
        {
            _chunk.ResetWrittenCount();
            (_chunkRest, size) = messages.Write(message, firstRecipient, _chunk, data: false);
        }
        bool accepted = options.Pipelining && _pipelining
            ? await PipelinedAsync(message, firstRecipient, bdat)
            : await LockStepAsync(message, firstRecipient, bdat);
        if (accepted)
        {
            stats.Accepted++;
            stats.Bytes += bdat ? size : _lastSize;
            return;
        }
        stats.Refused++;
        Write("RSET\r\n"u8);
        await ReplyAsync(SourceStats.Untimed, await FlushAsync());
    }

    private string Recipient(long message, int index) => !_recipientPattern ? options.To : options.To
        .Replace("{n}", message.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
        .Replace("{r}", index.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private void WriteRecipients(long message, string first)
    {
        for (int r = 1; r <= options.Recipients; r++)
        {
            WriteRecipient(message, first, r);
        }
    }

    private void WriteRecipient(long message, string first, int index)
    {
        if (_recipientPattern)
        {
            Write($"RCPT TO:<{(index == 1 ? first : Recipient(message, index))}>\r\n");
        }
        else
        {
            Write(_rcpt);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> LockStepAsync(long message, string first, bool bdat)
    {
        Write(_mail);
        if (await ReplyAsync(SourceStats.Mail, await FlushAsync()) / 100 != 2)
        {
            return false;
        }
        int taken = 0;
        for (int r = 1; r <= options.Recipients; r++)
        {
            WriteRecipient(message, first, r);
            taken += await ReplyAsync(SourceStats.Rcpt, await FlushAsync()) / 100 == 2 ? 1 : 0;
        }
        if (taken == 0)
        {
            return false;
        }
        if (bdat)
        {
            WriteChunk();
            return await ReplyAsync(SourceStats.Bdat, await FlushAsync()) / 100 == 2;
        }
        Write("DATA\r\n"u8);
        return await ReplyAsync(SourceStats.Data, await FlushAsync()) == 354 && await ContentAsync(message, first);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> PipelinedAsync(long message, string first, bool bdat)
    {
        Write(_mail);
        WriteRecipients(message, first);
        if (bdat)
        {
            WriteChunk();
        }
        else
        {
            Write("DATA\r\n"u8);
        }
        long sent = await FlushAsync();
        bool mail = await ReplyAsync(SourceStats.Mail, sent) / 100 == 2;
        int taken = 0;
        for (int r = 1; r <= options.Recipients; r++)
        {
            taken += await ReplyAsync(SourceStats.Rcpt, sent) / 100 == 2 ? 1 : 0;
        }
        if (bdat)
        {
            return await ReplyAsync(SourceStats.Bdat, sent) / 100 == 2 && mail && taken > 0;
        }
        return await ReplyAsync(SourceStats.Data, sent) == 354 && await ContentAsync(message, first);
    }

    private void WriteChunk()
    {
        Write($"BDAT {_chunk.WrittenCount + _chunkRest.Length} LAST\r\n");
        Write(_chunk.WrittenSpan);
        Write(_chunkRest);
    }

    /// <summary>The content after 354, then the final dot; whether the server took the message.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ContentAsync(long message, string first)
    {
        (ReadOnlyMemory<byte> rest, _lastSize) = messages.Write(message, first, _output, data: true);
        Write(rest);
        Write(".\r\n"u8);
        return await ReplyAsync(SourceStats.Content, await FlushAsync()) / 100 == 2;
    }

    private void Write(ReadOnlySpan<byte> bytes) => _output.Write(bytes);

    /// <summary>Content to send next: copied after what is written when small, sent from where it is when big.</summary>
    private void Write(ReadOnlyMemory<byte> content)
    {
        if (content.Length <= CopyLimit)
        {
            Write(content.Span);
        }
        else
        {
            _inserts.Add((_output.WrittenCount, content));
        }
    }

    private void Write(string text)
    {
        Span<byte> span = _output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        _output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    /// <summary>Starts the watchdog's clock for the wait that begins now; its time.</summary>
    private long Busy()
    {
        long now = Stopwatch.GetTimestamp();
        Volatile.Write(ref _waitingSince, now);
        return now;
    }

    /// <summary>Sends what was written; the time it was sent.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<long> FlushAsync()
    {
        Busy();
        if (_inserts.Count == 0)
        {
            await _stream.WriteAsync(_output.WrittenMemory);
        }
        else
        {
            await SendGatheredAsync();
        }
        _output.ResetWrittenCount();
        return Busy();
    }

    /// <summary>What was written with the big contents in their places: one sendmsg(2) on a plain connection, in turn over TLS.</summary>
    private async Task SendGatheredAsync()
    {
        ReadOnlyMemory<byte> written = _output.WrittenMemory;
        int from = 0;
        foreach ((int offset, ReadOnlyMemory<byte> content) in _inserts)
        {
            _segments.Add(Segment(written[from..offset]));
            _segments.Add(Segment(content));
            from = offset;
        }
        _segments.Add(Segment(written[from..]));
        _inserts.Clear();
        try
        {
            if (_stream is NetworkStream && _socket is { } socket)
            {
                await socket.SendAsync(_segments);
            }
            else
            {
                foreach (ArraySegment<byte> segment in _segments)
                {
                    await _stream.WriteAsync(segment);
                }
            }
        }
        finally
        {
            _segments.Clear();
        }
    }

    private static ArraySegment<byte> Segment(ReadOnlyMemory<byte> bytes) =>
        MemoryMarshal.TryGetArray(bytes, out ArraySegment<byte> segment) ? segment : throw new InvalidOperationException("not an array's bytes");

    /// <summary>
    /// The next reply's code, the whole reply read; counted by code, and its wait since <paramref name="since"/> timed as
    /// <paramref name="stage"/>. With <paramref name="ehlo"/>, the extensions the reply offers are noted in <see cref="_offered"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReplyAsync(int stage, long since, bool ehlo = false)
    {
        while (true)
        {
            int lf;
            while ((lf = Array.IndexOf(_input, (byte)'\n', _start, _end - _start)) < 0)
            {
                await FillAsync();
            }
            ReadOnlySpan<byte> line = _input.AsSpan(_start, lf - _start).TrimEnd("\r"u8);
            _start = lf + 1;
            if (line.Length < 3 || !int.TryParse(line[..3], NumberStyles.None, CultureInfo.InvariantCulture, out int code))
            {
                throw new IOException($"not an SMTP reply: {Encoding.UTF8.GetString(line)}");
            }
            if (ehlo && line.Length > 4)
            {
                _offered |= ExtensionOf(line[4..]);
            }
            if (line.Length == 3 || line[3] != '-')
            {
                if (stage != SourceStats.Untimed)
                {
                    stats.Record(stage, Stopwatch.GetElapsedTime(since));
                }
                stats.Reply(code);
                return code;
            }
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_input, _start, _input, 0, _end - _start);
            (_end, _start) = (_end - _start, 0);
        }
        if (_end == _input.Length)
        {
            throw new IOException("a reply line longer than 16 KiB");
        }
        int read = await _stream.ReadAsync(_input.AsMemory(_end));
        if (read == 0)
        {
            throw new IOException("the server closed the connection");
        }
        _end += read;
        Busy();
    }
}
