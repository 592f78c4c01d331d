using Edge.Tests.Support;
using System.Buffers;
using System.Text;
using Edge.Smtp.Protocol;

namespace Edge.Tests.Smtp;

public class LineFramerTests
{
    [Fact]
    public void Every_prefix_of_a_command_waits_for_more()
    {
        byte[] line = "MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME\r\n"u8.ToArray();
        for (int length = 0; length < line.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(line, 0, length);
            Assert.Equal(LineStatus.NeedMore, LineFramer.TryReadLine(ref buffer, 2048, out _, out _, out _));
            Assert.Equal(length, buffer.Length);
        }
        var whole = new ReadOnlySequence<byte>(line);
        Assert.Equal(LineStatus.Line, LineFramer.TryReadLine(ref whole, 2048, out var parsed, out bool bareLf, out _));
        Assert.False(bareLf);
        Assert.Equal("MAIL FROM:<a@example.org> SIZE=100 BODY=8BITMIME", Encoding.ASCII.GetString(parsed));
        Assert.True(whole.IsEmpty);
    }

    [Fact]
    public void A_line_split_across_segments_is_found()
    {
        ReadOnlySequence<byte> buffer = Segments.Of([.. new[] { "EHL", "O x", "\r", "\nNOOP" }.Select(Encoding.ASCII.GetBytes)]);
        Assert.Equal(LineStatus.Line, LineFramer.TryReadLine(ref buffer, 2048, out var line, out bool bareLf, out _));
        Assert.Equal("EHLO x", Encoding.ASCII.GetString(line));
        Assert.False(bareLf);
        Assert.Equal("NOOP", Encoding.ASCII.GetString(buffer));
    }

    [Fact]
    public void A_bare_lf_is_reported()
    {
        var buffer = new ReadOnlySequence<byte>("NOOP\nQUIT\r\n"u8.ToArray());
        Assert.Equal(LineStatus.Line, LineFramer.TryReadLine(ref buffer, 2048, out var line, out bool bareLf, out _));
        Assert.True(bareLf);
        Assert.Equal("NOOP", Encoding.ASCII.GetString(line));
    }

    [Fact]
    public void An_endless_line_is_truncated_without_buffering_more_than_the_limit()
    {
        byte[] flood = Encoding.ASCII.GetBytes("RCPT TO:<" + new string('a', 10_000));
        var buffer = new ReadOnlySequence<byte>(flood);
        Assert.Equal(LineStatus.Truncated, LineFramer.TryReadLine(ref buffer, 100, out var line, out _, out bool skip));
        Assert.True(skip);
        Assert.Equal(100, line.Length);
        Assert.True(buffer.Length < flood.Length - 100);
        Assert.False(LineFramer.SkipRestOfLine(ref buffer));
        Assert.True(buffer.IsEmpty);
        var tail = new ReadOnlySequence<byte>("aaa>\r\nQUIT\r\n"u8.ToArray());
        Assert.True(LineFramer.SkipRestOfLine(ref tail));
        Assert.Equal("QUIT\r\n", Encoding.ASCII.GetString(tail));
    }
}
