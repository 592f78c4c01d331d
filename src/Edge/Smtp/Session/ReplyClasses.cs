using Edge.Metrics;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Session;

/// <summary>
/// The replies a session sent, by class (2xx, 3xx, 4xx, 5xx), read from the bytes as they go to the client (after
/// soft_bounce made a 5XX a 4XX), whatever pieces a reply is written in: the last line of a reply is the one with a
/// space after its code. Added to edge.smtpd.replies once, at the end of the session, as the command counts are.
/// </summary>
internal sealed class ReplyClasses : ReplyWatcher
{
    private static readonly KeyValuePair<string, object?>[] Tags =
        [EdgeMetrics.Tag("class", "2xx"), EdgeMetrics.Tag("class", "3xx"), EdgeMetrics.Tag("class", "4xx"), EdgeMetrics.Tag("class", "5xx")];

    private readonly int[] _counts = new int[4];
    private int _column;
    private byte _first;

    protected override void Watch(Span<byte> written)
    {
        foreach (byte b in written)
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
