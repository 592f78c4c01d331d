using System.Text;
using Edge.Mail;
using Edge.Smtp.Data;

namespace Edge.Tests.Smtp;

public class DataScannerTests
{
    private sealed class Collect : IContentSink
    {
        public List<byte> Bytes { get; } = [];
        public void Write(ReadOnlySpan<byte> content) => Bytes.AddRange(content.ToArray());
        public override string ToString() => Encoding.Latin1.GetString(Bytes.ToArray());
    }

    /// <summary>Scans <paramref name="input"/> split at <paramref name="split"/>; returns content and where it ended.</summary>
    private static (string Content, int Consumed, bool Ended, bool BareLf) Scan(string input, BareNewlineMode mode, int split = -1)
    {
        byte[] bytes = Encoding.Latin1.GetBytes(input);
        var scanner = new DataScanner();
        scanner.StartData(mode);
        var sink = new Collect();
        int total = 0;
        foreach (byte[] part in split < 0 ? [bytes] : new[] { bytes[..split], bytes[split..] })
        {
            bool ended = scanner.Scan(part, sink, out int consumed);
            total += consumed;
            if (ended)
            {
                return (sink.ToString(), total, true, scanner.SawBareLf);
            }
        }
        return (sink.ToString(), total, false, scanner.SawBareLf);
    }

    [Fact]
    public void Ends_only_at_crlf_dot_crlf_and_unstuffs_dots()
    {
        var (content, consumed, ended, _) = Scan("Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n", BareNewlineMode.Normalize);
        Assert.True(ended);
        Assert.Equal("Subject: x\r\n\r\n.leading dot\r\n", content);
        Assert.Equal("Subject: x\r\n\r\n..leading dot\r\n.\r\n".Length, consumed);
    }

    // The end-of-data variants from the SMTP smuggling research: none of them may end the message in
    // normalize or reject mode, so "MAIL FROM" behind them stays content.
    [Theory]
    [InlineData("\n.\n")]
    [InlineData("\n.\r")]
    [InlineData("\r.\n")]
    [InlineData("\r.\r")]
    [InlineData("\n.\r\n")]
    [InlineData("\r.\r\n")]
    [InlineData("\r\n.\n")]
    [InlineData("\r\n.\r")]
    [InlineData("\r\n\0.\r\n")]
    [InlineData("\r\n.\0\r\n")]
    [InlineData("\r\n.\r\r\n")]
    [InlineData("\r\n .\r\n")]
    [InlineData("\n..\n")]
    public void Smuggling_variants_are_not_the_end_of_data(string variant)
    {
        string body = "Subject: x\r\n\r\nhello" + variant + "MAIL FROM:<evil@x>\r\n";
        foreach (BareNewlineMode mode in new[] { BareNewlineMode.Normalize, BareNewlineMode.Reject })
        {
            for (int split = 0; split <= body.Length; split++)
            {
                var (_, _, ended, _) = Scan(body, mode, split);
                Assert.False(ended, $"variant {Escape(variant)} ended DATA (mode {mode}, split {split})");
                var (_, consumed, endedProperly, _) = Scan(body + "\r\n.\r\n", mode, split);
                Assert.True(endedProperly);
                Assert.Equal(body.Length + 5, consumed);
            }
        }
    }

    [Fact]
    public void Bare_lf_lines_are_stored_with_crlf_and_flagged()
    {
        var (content, _, ended, bareLf) = Scan("a\nb\r\n.\r\n", BareNewlineMode.Normalize);
        Assert.True(ended);
        Assert.True(bareLf);
        Assert.Equal("a\r\nb\r\n", content);
    }

    [Fact]
    public void A_dot_line_ending_in_bare_lf_is_dropped_not_stored()
    {
        var (content, _, ended, _) = Scan("a\r\n.\nb\r\n.\r\n", BareNewlineMode.Normalize);
        Assert.True(ended);
        Assert.Equal("a\r\nb\r\n", content);
    }

    [Fact]
    public void A_dot_line_after_a_bare_lf_line_is_dropped_not_the_end()
    {
        var (content, _, ended, _) = Scan("a\n.\r\nb\r\n.\r\n", BareNewlineMode.Normalize);
        Assert.True(ended);
        Assert.Equal("a\r\nb\r\n", content);
    }

    [Fact]
    public void Bare_cr_and_nul_are_content()
    {
        var (content, _, ended, bareLf) = Scan("a\rb\0c\r\n.\r\n", BareNewlineMode.Reject);
        Assert.True(ended);
        Assert.False(bareLf);
        Assert.Equal("a\rb\0c\r\n", content);
    }

    [Theory]
    [InlineData("hello\n.\n", 8)]
    [InlineData("hello\r\n.\n", 9)]
    [InlineData("hello\n.\r\n", 9)]
    [InlineData("hello\r\n.\r\r\n", 11)]
    public void Legacy_mode_no_ends_at_a_bare_lf_dot(string input, int consumed)
    {
        var result = Scan(input + "rest", BareNewlineMode.Allow);
        Assert.True(result.Ended);
        Assert.Equal(consumed, result.Consumed);
    }

    [Fact]
    public void Bdat_content_is_counted_not_scanned_for_dots()
    {
        var scanner = new DataScanner();
        scanner.StartBdat(BareNewlineMode.Normalize);
        var sink = new Collect();
        Assert.False(scanner.Scan("a\r\n.\r\n..b\nc"u8, sink, out int consumed));
        Assert.Equal(11, consumed);
        Assert.Equal("a\r\n.\r\n..b\r\nc", sink.ToString());
        Assert.True(scanner.SawBareLf);
    }

    [Fact]
    public void Every_split_of_a_message_gives_the_same_content()
    {
        const string message = "Subject: s\r\n\r\n.x\r\nline\rcr\nlf\r\n..\r\nend\r\n.\r\n";
        var (whole, _, _, _) = Scan(message, BareNewlineMode.Normalize);
        for (int split = 0; split <= message.Length; split++)
        {
            var (content, consumed, ended, _) = Scan(message, BareNewlineMode.Normalize, split);
            Assert.True(ended);
            Assert.Equal(message.Length, consumed);
            Assert.Equal(whole, content);
        }
    }

    private static string Escape(string s) => s.Replace("\r", "\\r").Replace("\n", "\\n").Replace("\0", "\\0");
}
