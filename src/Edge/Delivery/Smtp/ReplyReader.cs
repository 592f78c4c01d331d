using System.Buffers;
using System.Text;

namespace Edge.Delivery.Smtp;

/// <summary>
/// Reads server replies line by line from a pooled buffer. A line longer than the buffer keeps its start and
/// loses the rest, and a reply keeps at most <see cref="MaxLines"/> lines: a hostile server cannot make the
/// client hold an unbounded reply.
/// </summary>
internal sealed class ReplyReader : IDisposable
{
    private const int BufferSize = 4096;
    private const int MaxLines = 200;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _start;
    private int _end;
    private Stream _stream;

    public ReplyReader(Stream stream) => _stream = stream;

    /// <summary>
    /// Continues on a new stream (after the TLS handshake), dropping whatever the old one had buffered: bytes
    /// the server sent behind its 220 to STARTTLS must not be read as replies inside TLS (CVE-2011-0411).
    /// </summary>
    public void Restart(Stream stream)
    {
        _stream = stream;
        _start = _end = 0;
    }

    /// <summary>Reads one whole reply; end of stream is an <see cref="EndOfStreamException"/>.</summary>
    public async ValueTask<SmtpReply> ReadAsync(CancellationToken cancellationToken)
    {
        var lines = new List<string>(1);
        while (true)
        {
            string line = await ReadLineAsync(cancellationToken);
            if (lines.Count < MaxLines)
            {
                lines.Add(line);
            }
            bool hasCode = line.Length >= 3 && char.IsAsciiDigit(line[0]) && char.IsAsciiDigit(line[1]) && char.IsAsciiDigit(line[2]);
            if (hasCode && line.Length > 3 && line[3] == '-')
            {
                continue;
            }
            // The last line's code is the reply's; a line without one ends the reply as code 0, which no
            // caller takes for success (Postfix, too, stops at such garbage).
            int code = hasCode && (line.Length == 3 || line[3] == ' ') ? int.Parse(line.AsSpan(0, 3)) : 0;
            return new SmtpReply(code, lines);
        }
    }

    private async ValueTask<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        string? head = null;
        while (true)
        {
            int lf = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (lf >= 0)
            {
                int length = lf > 0 && _buffer[_start + lf - 1] == (byte)'\r' ? lf - 1 : lf;
                string line = head ?? Encoding.UTF8.GetString(_buffer, _start, length);
                _start += lf + 1;
                return line;
            }
            if (_start == _end)
            {
                _start = _end = 0;
            }
            else if (_end == _buffer.Length)
            {
                if (_start == 0)
                {
                    // An over-long line: keep what the buffer holds, skip the rest up to its end.
                    head ??= Encoding.UTF8.GetString(_buffer, 0, _end);
                    _end = 0;
                }
                else
                {
                    _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                    _end -= _start;
                    _start = 0;
                }
            }
            int read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                throw new EndOfStreamException("the server closed the connection");
            }
            _end += read;
        }
    }

    public void Dispose()
    {
        byte[] buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
