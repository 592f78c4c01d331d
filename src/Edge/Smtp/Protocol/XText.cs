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

    private static bool IsUpperHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'A' and <= (byte)'F';
}
