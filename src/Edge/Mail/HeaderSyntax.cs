namespace Edge.Mail;

/// <summary>The shape of a message header line (RFC 5322 field name), shared by cleanup and the mail filter client.</summary>
internal static class HeaderSyntax
{
    /// <summary>"Name:" at the start of a line: printable characters other than the colon, then a colon.</summary>
    public static bool IsHeader(ReadOnlySpan<byte> line)
    {
        int colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }
        foreach (byte b in line[..colon].TrimEnd((byte)' '))
        {
            if (b is <= 32 or >= 127)
            {
                return false;
            }
        }
        return true;
    }
}
