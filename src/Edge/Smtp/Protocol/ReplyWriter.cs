using System.Buffers;
using System.Buffers.Text;

namespace Edge.Smtp.Protocol;

/// <summary>
/// Writes replies straight into the connection's output buffer. Replies are assembled from u8 literals and
/// slices of input, never formatted strings, so a reply costs no managed allocation.
/// </summary>
internal readonly struct ReplyWriter(IBufferWriter<byte> output)
{
    public void Write(ReadOnlySpan<byte> bytes)
    {
        Span<byte> span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }

    /// <summary>Writes text that is known to be ASCII (host names, queue IDs, configured texts).</summary>
    public void WriteAscii(ReadOnlySpan<char> text)
    {
        Span<byte> span = output.GetSpan(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            span[i] = c < 0x80 ? (byte)c : (byte)'?';
        }
        output.Advance(text.Length);
    }

    public void WriteNumber(long value)
    {
        Span<byte> span = output.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out int written);
        output.Advance(written);
    }

    public void CrLf() => Write("\r\n"u8);

    /// <summary>"code enhanced text\r\n" in one call, the shape of most replies.</summary>
    public void Line(ReadOnlySpan<byte> reply)
    {
        Write(reply);
        CrLf();
    }
}
