using System.Runtime.CompilerServices;
using System.Text;

namespace Edge.Logging;

/// <summary>
/// Builds a mail log line from an interpolated string straight into a pooled buffer, which the log writer
/// returns to the pool once the line is out: logging a line allocates no string.
/// </summary>
[InterpolatedStringHandler]
internal ref struct LogLine
{
    private char[] _buffer;
    private int _length;

    public LogLine(int literalLength, int formattedCount)
    {
        _buffer = LogBuffers.Rent(literalLength + formattedCount * 24);
        _length = 0;
    }

    public void AppendLiteral(string text) => Append(text);

    public void AppendFormatted(string? text) => Append(text);

    public void AppendFormatted(ReadOnlySpan<char> text) => Append(text);

    /// <summary>Client bytes (an address, a HELO name): decoded as UTF-8, control characters shown as '?'.</summary>
    public void AppendFormatted(ClientText text)
    {
        Ensure(Encoding.UTF8.GetMaxCharCount(text.Bytes.Length));
        int written = Encoding.UTF8.GetChars(text.Bytes, _buffer.AsSpan(_length));
        foreach (ref char c in _buffer.AsSpan(_length, written))
        {
            if (char.IsControl(c))
            {
                c = '?';
            }
        }
        _length += written;
    }

    /// <summary>Numbers, queue IDs …: formatted in place through a constrained call, so nothing is boxed.</summary>
    public void AppendFormatted<T>(T value) where T : ISpanFormattable
    {
        int written;
        while (!value.TryFormat(_buffer.AsSpan(_length), out written, default, null))
        {
            Grow(_buffer.Length);
        }
        _length += written;
    }

    public void AppendFormatted(object? value) => Append(value?.ToString());

    private void Append(ReadOnlySpan<char> text)
    {
        Ensure(text.Length);
        text.CopyTo(_buffer.AsSpan(_length));
        _length += text.Length;
    }

    private void Ensure(int more)
    {
        if (_length + more > _buffer.Length)
        {
            Grow(more);
        }
    }

    private void Grow(int more)
    {
        char[] larger = LogBuffers.Rent(Math.Max(_buffer.Length * 2, _length + more));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        LogBuffers.Return(_buffer);
        _buffer = larger;
    }

    /// <summary>Hands the buffer over to the log writer, which returns it to the pool.</summary>
    internal (char[] Buffer, int Length) Detach()
    {
        (char[], int) result = (_buffer, _length);
        _buffer = [];
        _length = 0;
        return result;
    }
}

/// <summary>Bytes a client sent, to be shown in a log line (see <see cref="LogLine.AppendFormatted(ClientText)"/>).</summary>
internal readonly ref struct ClientText(ReadOnlySpan<byte> bytes)
{
    public ReadOnlySpan<byte> Bytes { get; } = bytes;
}
