using System.Diagnostics.CodeAnalysis;

namespace Edge.Mail;

/// <summary>
/// A queue ID: the arrival time in microseconds since the Unix epoch, made unique within the process by
/// moving forward one microsecond on collision. Its text form is Postfix's long queue ID time part:
/// seconds (6 digits) and microseconds (4 digits) in Postfix's base-52 alphabet (digits and consonants),
/// whose characters are in ASCII order, so IDs sort by arrival as text and as numbers.
/// </summary>
internal readonly record struct QueueId(long Value) : IComparable<QueueId>, ISpanFormattable, IUtf8SpanFormattable
{
    private const string Alphabet = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
    public const int TextLength = 10;

    private static long s_last;

    public static QueueId New()
    {
        long now = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        while (true)
        {
            long last = Volatile.Read(ref s_last);
            long next = now > last ? now : last + 1;
            if (Interlocked.CompareExchange(ref s_last, next, last) == last)
            {
                return new QueueId(next);
            }
        }
    }

    /// <summary>After recovery: IDs issued from now on must sort after every recovered one.</summary>
    public static void NotBefore(QueueId id)
    {
        long last;
        do
        {
            last = Volatile.Read(ref s_last);
        }
        while (id.Value > last && Interlocked.CompareExchange(ref s_last, id.Value, last) != last);
    }

    /// <summary>The arrival time; an ID read from a damaged record may be any number, so it is kept within the calendar.</summary>
    public DateTimeOffset Arrival => DateTimeOffset.FromUnixTimeMilliseconds(
        Math.Clamp(Value / 1000, DateTimeOffset.MinValue.ToUnixTimeMilliseconds(), DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()));

    /// <summary>The text form. Any number has one (an ID read from a damaged record may be negative): it is named, never fatal.</summary>
    public void Format(Span<char> destination)
    {
        ulong value = (ulong)Value;
        Encode(value / 1_000_000, destination[..6]);
        Encode(value % 1_000_000, destination[6..TextLength]);
    }

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        charsWritten = 0;
        if (destination.Length < TextLength)
        {
            return false;
        }
        Format(destination);
        charsWritten = TextLength;
        return true;
    }

    public bool TryFormat(Span<byte> utf8Destination, out int bytesWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        bytesWritten = 0;
        if (utf8Destination.Length < TextLength)
        {
            return false;
        }
        Span<char> text = stackalloc char[TextLength];
        Format(text);
        for (int i = 0; i < TextLength; i++)
        {
            utf8Destination[i] = (byte)text[i];
        }
        bytesWritten = TextLength;
        return true;
    }

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public override string ToString()
    {
        Span<char> text = stackalloc char[TextLength];
        Format(text);
        return new string(text);
    }

    public static bool TryParse(ReadOnlySpan<char> text, [NotNullWhen(true)] out QueueId? id)
    {
        id = null;
        if (text.Length != TextLength || !TryDecode(text[..6], out long seconds) || !TryDecode(text[6..], out long micros)
            || micros >= 1_000_000)
        {
            return false;
        }
        id = new QueueId(seconds * 1_000_000 + micros);
        return true;
    }

    public int CompareTo(QueueId other) => Value.CompareTo(other.Value);

    private static void Encode(ulong value, Span<char> destination)
    {
        for (int i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = Alphabet[(int)(value % 52)];
            value /= 52;
        }
    }

    private static bool TryDecode(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        foreach (char c in text)
        {
            int digit = Alphabet.IndexOf(c);
            if (digit < 0)
            {
                return false;
            }
            value = value * 52 + digit;
        }
        return true;
    }
}
