using System.Buffers;
using System.Text;

namespace Edge.Logging;

/// <summary>Client bytes made safe for a log line, as Postfix's escape(): C escapes, at most 100 bytes.</summary>
internal static class Printable
{
    public static string Escape(in ReadOnlySequence<byte> bytes) => Escape(bytes.Slice(0, Math.Min(bytes.Length, 100)).ToArray());

    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length);
        foreach (byte b in bytes[..Math.Min(bytes.Length, 100)])
        {
            switch (b)
            {
                case (byte)'\r': text.Append("\\r"); break;
                case (byte)'\n': text.Append("\\n"); break;
                case (byte)'\t': text.Append("\\t"); break;
                case (byte)'\\': text.Append("\\\\"); break;
                case < 0x20 or >= 0x7f: text.Append('\\').Append(Convert.ToString(b, 8).PadLeft(3, '0')); break;
                default: text.Append((char)b); break;
            }
        }
        return text.ToString();
    }

    /// <summary>A client-supplied name (HELO argument, address) for logs and headers: no controls, no 8-bit garbage.</summary>
    public static string Text(ReadOnlySpan<byte> bytes) => Text(Encoding.UTF8.GetString(bytes));

    /// <summary>The same for text that is already a string (a policy script's answer): unchanged when it is clean.</summary>
    public static string Text(string text)
    {
        foreach (char c in text)
        {
            if (char.IsControl(c) || c == '\uFFFD')
            {
                return Replaced(text);
            }
        }
        return text;
    }

    private static string Replaced(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                char c = source[i];
                span[i] = char.IsControl(c) || c == '\uFFFD' ? '?' : c;
            }
        });
}
