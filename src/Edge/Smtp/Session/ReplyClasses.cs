using System.Buffers;
using Edge.Metrics;

namespace Edge.Smtp.Session;

/// <summary>
/// The replies a session sent, by class (2xx, 3xx, 4xx, 5xx), read from the bytes as they go to the client (after
/// soft_bounce made a 5XX a 4XX), whatever pieces a reply is written in: the last line of a reply is the one with a
/// space after its code. Added to edge.smtpd.replies once, at the end of the session, as the command counts are.
/// </summary>
internal sealed class ReplyClasses : IBufferWriter<byte>
{
    private static readonly KeyValuePair<string, object?>[] Tags =
        [EdgeMetrics.Tag("class", "2xx"), EdgeMetrics.Tag("class", "3xx"), EdgeMetrics.Tag("class", "4xx"), EdgeMetrics.Tag("class", "5xx")];

    private readonly int[] _counts = new int[4];
    private IBufferWriter<byte> _inner = null!;
    private Memory<byte> _last;
    private int _column;
    private byte _first;

    /// <summary>This writer in front of <paramref name="inner"/> (the connection's writer changes at STARTTLS).</summary>
    public ReplyClasses Over(IBufferWriter<byte> inner)
    {
        _inner = inner;
        return this;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => _last = _inner.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void Advance(int count)
    {
        foreach (byte b in _last.Span[..count])
        {
            if (b == '\n')
            {
                _column = 0;
                continue;
            }
            if (_column == 0)
            {
                _first = b;
            }
            else if (_column == 3 && b == ' ' && _first is >= (byte)'2' and <= (byte)'5')
            {
                _counts[_first - '2']++;
            }
            _column++;
        }
        _inner.Advance(count);
    }

    public void Publish()
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            if (_counts[i] > 0)
            {
                EdgeMetrics.Replies.Add(_counts[i], Tags[i]);
            }
        }
    }
}
