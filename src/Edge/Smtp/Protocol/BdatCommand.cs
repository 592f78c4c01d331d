using System.Buffers.Text;

namespace Edge.Smtp.Protocol;

/// <summary>The argument of BDAT (RFC 3030): "size" or "size LAST", spaces before LAST allowed as Postfix allows them.</summary>
internal static class BdatCommand
{
    public static bool TryParse(ReadOnlySpan<byte> argument, out long size, out bool last)
    {
        last = false;
        int space = argument.IndexOf((byte)' ');
        ReadOnlySpan<byte> count = space < 0 ? argument : argument[..space];
        if (count.IsEmpty || count.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0
            || !Utf8Parser.TryParse(count, out size, out int used) || used != count.Length)
        {
            size = 0;
            return false;
        }
        if (space < 0)
        {
            return true;
        }
        ReadOnlySpan<byte> tail = argument[(space + 1)..].TrimStart((byte)' ');
        last = System.Text.Ascii.EqualsIgnoreCase(tail, "LAST"u8);
        return last;
    }
}
