using System.Net;
using System.Text;

namespace Edge.Tables.Remote;

/// <summary>One connection to a table's server, kept between lookups; its reads are bounded, as Postfix bounds them.</summary>
internal sealed class TableConnection(Stream stream) : IDisposable
{
    /// <summary>As Postfix's socketmap client: an idle connection is closed after 10 s, any after 100 s.</summary>
    private const long MaxIdleMs = 10_000;
    private const long MaxTtlMs = 100_000;

    private readonly long _opened = Environment.TickCount64;
    private long _used = Environment.TickCount64;
    private byte[] _buffer = new byte[1024];
    private int _start;
    private int _end;

    public bool IsFresh
    {
        get
        {
            long now = Environment.TickCount64;
            return now - _used < MaxIdleMs && now - _opened < MaxTtlMs;
        }
    }

    public async Task WriteAsync(byte[] request, CancellationToken cancellationToken)
    {
        await stream.WriteAsync(request, cancellationToken);
        _used = Environment.TickCount64;
    }

    /// <summary>The next line without its newline; an end of stream or a line past <paramref name="limit"/> is an IOException.</summary>
    public async Task<string> ReadLineAsync(int limit, CancellationToken cancellationToken)
    {
        int scanned = 0;
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start + scanned, _end - _start - scanned);
            if (newline >= 0)
            {
                string line = Encoding.UTF8.GetString(_buffer, _start, newline - _start);
                _start = newline + 1;
                _used = Environment.TickCount64;
                return line;
            }
            scanned = _end - _start;
            if (scanned > limit)
            {
                throw new ProtocolViolationException($"text longer than {limit}");
            }
            await FillAsync(cancellationToken);
        }
    }

    /// <summary>Exactly <paramref name="length"/> bytes and the CRLF after them, as memcached sends a value.</summary>
    public async Task<string> ReadBlockAsync(int length, CancellationToken cancellationToken)
    {
        while (_end - _start < length + 2)
        {
            await FillAsync(cancellationToken);
        }
        if (_buffer[_start + length] != '\r' || _buffer[_start + length + 1] != '\n')
        {
            throw new ProtocolViolationException("a value without its CRLF");
        }
        string data = Encoding.UTF8.GetString(_buffer, _start, length);
        _start += length + 2;
        _used = Environment.TickCount64;
        return data;
    }

    /// <summary>One whole BER element (an LDAP message), of at most <paramref name="limit"/> bytes.</summary>
    public async Task<byte[]> ReadBerAsync(int limit, CancellationToken cancellationToken)
    {
        while (_end - _start < 2)
        {
            await FillAsync(cancellationToken);
        }
        int count = _buffer[_start + 1] >= 0x80 ? _buffer[_start + 1] & 0x7f : 0;
        if (count > 4)
        {
            throw new ProtocolViolationException("an LDAP message with a length BER does not allow");
        }
        while (_end - _start < 2 + count)
        {
            await FillAsync(cancellationToken);
        }
        long length = count == 0 ? _buffer[_start + 1] : 0;
        for (int i = 0; i < count; i++)
        {
            length = (length << 8) | _buffer[_start + 2 + i];
        }
        long total = 2 + count + length;
        if (total > limit)
        {
            throw new ProtocolViolationException("input exceeds size limit");
        }
        while (_end - _start < total)
        {
            await FillAsync(cancellationToken);
        }
        byte[] message = _buffer.AsSpan(_start, (int)total).ToArray();
        _start += (int)total;
        _used = Environment.TickCount64;
        return message;
    }

    /// <summary>A netstring ("length:data,") of at most <paramref name="limit"/> bytes, as Postfix's netstring_get().</summary>
    public async Task<string> ReadNetstringAsync(int limit, CancellationToken cancellationToken)
    {
        int length = 0;
        for (int digits = 0; ; digits++)
        {
            byte b = await ReadByteAsync(cancellationToken);
            if (b == ':' && digits > 0)
            {
                break;
            }
            if (b is < (byte)'0' or > (byte)'9' || digits >= 9)
            {
                throw new ProtocolViolationException("format error");
            }
            length = length * 10 + (b - '0');
        }
        if (length > limit)
        {
            throw new ProtocolViolationException("input exceeds size limit");
        }
        while (_end - _start < length + 1)
        {
            await FillAsync(cancellationToken);
        }
        string data = Encoding.UTF8.GetString(_buffer, _start, length);
        _start += length;
        if (_buffer[_start++] != ',')
        {
            throw new ProtocolViolationException("format error");
        }
        _used = Environment.TickCount64;
        return data;
    }

    private async ValueTask<byte> ReadByteAsync(CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            await FillAsync(cancellationToken);
        }
        return _buffer[_start++];
    }

    /// <summary>Reads more, making room (and growing the buffer when it is full of one unread item).</summary>
    private async Task FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        int n = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (n == 0)
        {
            throw new EndOfStreamException("unexpected end-of-file");
        }
        _end += n;
    }

    public void Dispose() => stream.Dispose();
}
