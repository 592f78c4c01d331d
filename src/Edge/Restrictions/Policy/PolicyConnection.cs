using System.Net;
using System.Text;

namespace Edge.Restrictions.Policy;

/// <summary>
/// One connection to a policy server (Postfix's policy delegation protocol): a request is attributes and an empty
/// line, so is the answer, whose action= attribute is what the restriction does. Any stream: the fuzz harness's is in memory.
/// </summary>
internal sealed class PolicyConnection(Stream stream) : IDisposable
{
    /// <summary>An answer longer than this is not a policy server's.</summary>
    private const int MaxResponse = 64 * 1024;

    private readonly Stream _stream = stream;
    private readonly long _opened = Environment.TickCount64;
    private long _used = Environment.TickCount64;
    private readonly byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;

    public int Requests { get; private set; }

    public bool IsFresh(PolicyServiceSettings settings)
    {
        long now = Environment.TickCount64;
        return now - _used < settings.MaxIdle.TotalMilliseconds && now - _opened < settings.MaxTtl.TotalMilliseconds;
    }

    public async Task<string> AskAsync(byte[] query, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(query, cancellationToken);
        Requests++;
        string? action = null;
        int read = 0;
        while (await ReadLineAsync(cancellationToken) is { } line)
        {
            read += line.Length + 1;
            if (line.Length == 0)
            {
                _used = Environment.TickCount64;
                return action ?? throw new ProtocolViolationException("the answer has no action= attribute");
            }
            if (read > MaxResponse)
            {
                throw new ProtocolViolationException($"an answer longer than {MaxResponse} bytes");
            }
            if (line.StartsWith("action=", StringComparison.Ordinal))
            {
                action = line[7..];
            }
        }
        throw new IOException("the server closed the connection");
    }

    /// <summary>The next line without its newline; null at the end of the stream.</summary>
    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                string line = Encoding.UTF8.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                throw new ProtocolViolationException($"a line longer than {_buffer.Length} bytes");
            }
            int n = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (n == 0)
            {
                return null;
            }
            _end += n;
        }
    }

    public void Dispose() => _stream.Dispose();
}
