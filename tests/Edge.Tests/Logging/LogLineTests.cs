using Edge.Logging;

namespace Edge.Tests.Logging;

public class LogLineTests
{
    private static string Text(ref LogLine line)
    {
        (char[] buffer, int length) = line.Detach();
        string text = new(buffer, 0, length);
        LogBuffers.Return(buffer);
        return text;
    }

    [Fact]
    public void A_line_longer_than_a_standard_buffer_is_kept_whole()
    {
        string sender = new('s', 3 * LogBuffers.StandardLength);
        int size = 12345;
        LogLine line = $"4XyZ: from=<{sender}@example.org>, size={size}, nrcpt=1 (queue active)";
        Assert.Equal($"4XyZ: from=<{sender}@example.org>, size=12345, nrcpt=1 (queue active)", Text(ref line));
    }

    [Fact]
    public void Client_text_is_decoded_as_utf8_with_control_characters_shown_as_question_marks()
    {
        LogLine line = $"helo=<{new ClientText("m\u00fcller\r\n\u0007.example"u8)}>";
        Assert.Equal("helo=<m\u00fcller???.example>", Text(ref line));
    }
}
