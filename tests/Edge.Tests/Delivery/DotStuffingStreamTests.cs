using System.Text;
using Edge.Delivery.Smtp;

namespace Edge.Tests.Delivery;

/// <summary>Dot-stuffing while streaming: the same bytes whatever the write sizes, across buffer boundaries.</summary>
public class DotStuffingStreamTests
{
    private static async Task<string> StuffAsync(string content, Func<int, int> pieceSize)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(content);
        using var output = new MemoryStream();
        using var deadline = new StageDeadline(CancellationToken.None);
        using (var stuffing = new DotStuffingStream(output, deadline, TimeSpan.FromSeconds(10)))
        {
            for (int offset = 0, piece = 0; offset < bytes.Length; piece++)
            {
                int size = Math.Min(pieceSize(piece), bytes.Length - offset);
                await stuffing.WriteAsync(bytes.AsMemory(offset, size));
                offset += size;
            }
            await stuffing.CompleteAsync(CancellationToken.None);
        }
        return Encoding.UTF8.GetString(output.ToArray());
    }

    /// <summary>RFC 5321 4.5.2 the slow way: one more dot on every line that starts with one, then the end.</summary>
    private static string Expected(string content)
    {
        var text = new StringBuilder();
        foreach (string line in content.Split("\r\n"))
        {
            text.Append(line.StartsWith('.') ? "." : "").Append(line).Append("\r\n");
        }
        // Split leaves an empty last element after a final CRLF; a content without one gets its CRLF here.
        string body = content.EndsWith("\r\n", StringComparison.Ordinal) || content.Length == 0
            ? text.ToString(0, text.Length - 2)
            : text.ToString();
        return body + ".\r\n";
    }

    [Theory]
    [InlineData("Subject: x\r\n\r\nbody\r\n")]
    [InlineData(".\r\n")]
    [InlineData("..\r\n.x\r\n x.\r\n")]
    [InlineData("no final newline")]
    [InlineData(".no final newline")]
    [InlineData("")]
    public async Task Leading_dots_are_doubled_and_the_end_is_marked(string content)
    {
        Assert.Equal(Expected(content), await StuffAsync(content, _ => int.MaxValue));
        Assert.Equal(Expected(content), await StuffAsync(content, _ => 1));
    }

    [Fact]
    public void Expected_is_the_rfc_example()
    {
        Assert.Equal("a\r\n..b\r\n.\r\n", Expected("a\r\n.b\r\n"));
        Assert.Equal("a\r\n.\r\n", Expected("a"));
        Assert.Equal(".\r\n", Expected(""));
    }

    [Fact]
    public async Task Large_content_in_uneven_writes_is_stuffed_the_same()
    {
        var content = new StringBuilder();
        var random = new Random(5321);
        while (content.Length < 300_000)
        {
            // Many dot lines, of lengths that put them at every offset of the 32 KiB buffer sooner or later.
            content.Append(random.Next(3) == 0 ? "." : "").Append('x', random.Next(0, 200)).Append("\r\n");
        }
        string text = content.ToString();
        string expected = Expected(text);

        Assert.Equal(expected, await StuffAsync(text, _ => int.MaxValue));
        Assert.Equal(expected, await StuffAsync(text, piece => 1 + piece * 7 % 9000));
        Assert.Equal(expected, await StuffAsync(text, _ => 32 * 1024 - 1));
    }
}
