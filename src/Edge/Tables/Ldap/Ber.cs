using System.Text;

namespace Edge.Tables.Ldap;

/// <summary>The BER encoding of LDAP (RFC 4511 section 5.1): definite lengths, and only the types LDAP uses.</summary>
internal sealed class BerWriter
{
    private readonly List<byte> _bytes = [];
    private readonly Stack<int> _open = new();

    public byte[] ToArray() => [.. _bytes];

    /// <summary>Starts a constructed element (a SEQUENCE, SET or constructed choice); <see cref="End"/> closes it.</summary>
    public BerWriter Begin(byte tag)
    {
        _bytes.Add(tag);
        _open.Push(_bytes.Count);
        return this;
    }

    public BerWriter End()
    {
        int start = _open.Pop();
        int length = _bytes.Count - start;
        _bytes.InsertRange(start, Length(length));
        return this;
    }

    public BerWriter Integer(long value, byte tag = 0x02)
    {
        var content = new List<byte>();
        do
        {
            content.Insert(0, (byte)value);
            value >>= 8;
        }
        while (value != 0 && value != -1);
        if (value == 0 && content[0] >= 0x80)
        {
            content.Insert(0, 0);
        }
        return Primitive(tag, [.. content]);
    }

    public BerWriter Boolean(bool value) => Primitive(0x01, [value ? (byte)0xff : (byte)0]);

    public BerWriter String(string value, byte tag = 0x04) => Primitive(tag, Encoding.UTF8.GetBytes(value));

    public BerWriter Primitive(byte tag, byte[] content)
    {
        _bytes.Add(tag);
        _bytes.AddRange(Length(content.Length));
        _bytes.AddRange(content);
        return this;
    }

    private static byte[] Length(int length)
    {
        if (length < 0x80)
        {
            return [(byte)length];
        }
        var bytes = new List<byte>();
        for (int rest = length; rest > 0; rest >>= 8)
        {
            bytes.Insert(0, (byte)rest);
        }
        return [(byte)(0x80 | bytes.Count), .. bytes];
    }
}

/// <summary>Reads BER elements out of one received message; anything that does not add up is an <see cref="InvalidDataException"/>.</summary>
internal ref struct BerReader(ReadOnlySpan<byte> data)
{
    private ReadOnlySpan<byte> _data = data;

    public readonly bool HasMore => !_data.IsEmpty;

    public readonly byte PeekTag => _data.IsEmpty ? throw new InvalidDataException("a truncated LDAP message") : _data[0];

    /// <summary>The next element's content; its tag in <paramref name="tag"/>.</summary>
    public ReadOnlySpan<byte> Read(out byte tag)
    {
        if (_data.Length < 2)
        {
            throw new InvalidDataException("a truncated LDAP message");
        }
        tag = _data[0];
        int length = _data[1];
        int header = 2;
        if (length >= 0x80)
        {
            int count = length & 0x7f;
            if (count is 0 or > 4 || _data.Length < 2 + count)
            {
                throw new InvalidDataException("an LDAP message with a length BER does not allow");
            }
            length = 0;
            for (int i = 0; i < count; i++)
            {
                length = (length << 8) | _data[2 + i];
            }
            header += count;
        }
        if (length < 0 || _data.Length - header < length)
        {
            throw new InvalidDataException("a truncated LDAP message");
        }
        ReadOnlySpan<byte> content = _data.Slice(header, length);
        _data = _data[(header + length)..];
        return content;
    }

    public long Integer()
    {
        ReadOnlySpan<byte> content = Read(out _);
        if (content.IsEmpty || content.Length > 8)
        {
            throw new InvalidDataException("an LDAP integer BER does not allow");
        }
        long value = (sbyte)content[0];
        for (int i = 1; i < content.Length; i++)
        {
            value = (value << 8) | content[i];
        }
        return value;
    }

    public string String() => Encoding.UTF8.GetString(Read(out _));
}
