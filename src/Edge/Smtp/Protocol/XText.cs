namespace Edge.Smtp.Protocol;

/// <summary>RFC 3461 xtext, used by ENVID and ORCPT: printable ASCII except "+" and "=", and "+XX" hex escapes.</summary>
internal static class XText
{
    public static bool IsValid(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return false;
        }
        for (int i = 0; i < text.Length; i++)
        {
            byte b = text[i];
            if (b == (byte)'+')
            {
                if (i + 2 >= text.Length)
                {
                    return false;
                }
                if (!IsUpperHex(text[i + 1]) || !IsUpperHex(text[i + 2]))
                {
                    return false;
                }
                i += 2;
            }
            else if (b < 0x21 || b > 0x7e || b == (byte)'=')
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Decodes "+XX" escapes; text that is not valid xtext is returned as it came, decoded as UTF-8.</summary>
    public static string Decode(ReadOnlySpan<byte> text)
    {
        if (!IsValid(text) || text.IndexOf((byte)'+') < 0)
        {
            return System.Text.Encoding.UTF8.GetString(text);
        }
        var bytes = new byte[text.Length];
        int n = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == (byte)'+')
            {
                bytes[n++] = (byte)(HexValue(text[i + 1]) << 4 | HexValue(text[i + 2]));
                i += 2;
            }
            else
            {
                bytes[n++] = text[i];
            }
        }
        return System.Text.Encoding.UTF8.GetString(bytes, 0, n);
    }

    /// <summary>Encodes text as xtext: "+" and "=", controls, spaces and 8-bit bytes become "+XX".</summary>
    public static string Encode(string text)
    {
        var encoded = new System.Text.StringBuilder(text.Length);
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(text))
        {
            if (b is < 0x21 or > 0x7e or (byte)'+' or (byte)'=')
            {
                encoded.Append('+').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                encoded.Append((char)b);
            }
        }
        return encoded.ToString();
    }

    private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : b - 'A' + 10;

    private static bool IsUpperHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'A' and <= (byte)'F';
}
