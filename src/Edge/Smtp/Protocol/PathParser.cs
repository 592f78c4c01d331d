namespace Edge.Smtp.Protocol;

/// <summary>
/// Extracts the address from a MAIL FROM / RCPT TO path: "&lt;local@domain&gt;", "&lt;&gt;", a source route
/// "&lt;@a,@b:local@domain&gt;" (the route is dropped, as RFC 5321 says), or, unless
/// strict_rfc821_envelopes is set, a bare address without angle brackets.
/// </summary>
internal static class PathParser
{
    /// <summary>
    /// Parses the path at the start of <paramref name="text"/>. On success <paramref name="address"/> is the
    /// mailbox (empty for the null path) and <paramref name="rest"/> what follows the path (parameters).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, bool strict, bool utf8Allowed,
        out Range address, out int rest)
    {
        address = default;
        rest = 0;
        if (text.IsEmpty)
        {
            return false;
        }
        int start, end;
        if (text[0] == (byte)'<')
        {
            int close = FindClose(text);
            if (close < 0)
            {
                return false;
            }
            start = 1;
            end = close;
            rest = close + 1;
            if (rest < text.Length && text[rest] != (byte)' ')
            {
                return false;
            }
        }
        else
        {
            if (strict)
            {
                return false;
            }
            int space = text.IndexOf((byte)' ');
            start = 0;
            end = space < 0 ? text.Length : space;
            rest = end;
        }

        ReadOnlySpan<byte> inner = text[start..end];
        if (inner.Length > 0 && inner[0] == (byte)'@')
        {
            int colon = inner.IndexOf((byte)':');
            if (colon < 0)
            {
                return false;
            }
            start += colon + 1;
            inner = text[start..end];
        }
        if (!IsValidMailbox(inner, utf8Allowed))
        {
            return false;
        }
        address = start..end;
        return true;
    }

    /// <summary>RFC 5321 quoted-pairSMTP: a backslash may escape only a printable character.</summary>
    private static bool IsQuotedPair(byte b, bool utf8Allowed) => b is >= 0x20 and <= 0x7e || (b >= 0x80 && utf8Allowed);

    private static int FindClose(ReadOnlySpan<byte> text)
    {
        bool quoted = false;
        for (int i = 1; i < text.Length; i++)
        {
            byte b = text[i];
            if (b == (byte)'\\' && quoted)
            {
                i++;
                if (i < text.Length && !IsQuotedPair(text[i], utf8Allowed: true))
                {
                    return -1;
                }
            }
            else if (b == (byte)'"')
            {
                quoted = !quoted;
            }
            else if (!quoted && b == (byte)'>')
            {
                return i;
            }
            else if (!quoted && b == (byte)'<')
            {
                return -1;
            }
        }
        return -1;
    }

    /// <summary>
    /// RFC 5321 Mailbox, leniently as Postfix: a dot-string or quoted local part, optionally "@" and a domain
    /// or address literal. Unqualified names ("postmaster") are allowed. The empty string is the null path.
    /// </summary>
    public static bool IsValidMailbox(ReadOnlySpan<byte> mailbox, bool utf8Allowed)
    {
        if (mailbox.IsEmpty)
        {
            return true;
        }
        int at;
        if (mailbox[0] == (byte)'"')
        {
            int i = 1;
            for (; i < mailbox.Length; i++)
            {
                byte b = mailbox[i];
                if (b == (byte)'\\')
                {
                    i++;
                    if (i >= mailbox.Length || !IsQuotedPair(mailbox[i], utf8Allowed))
                    {
                        return false;
                    }
                    continue;
                }
                if (b == (byte)'"')
                {
                    break;
                }
                if (b < 0x20 || b == 0x7f || (b >= 0x80 && !utf8Allowed))
                {
                    return false;
                }
            }
            if (i >= mailbox.Length)
            {
                return false;
            }
            at = i + 1;
            if (at < mailbox.Length && mailbox[at] != (byte)'@')
            {
                return false;
            }
        }
        else
        {
            at = mailbox.LastIndexOf((byte)'@');
            ReadOnlySpan<byte> local = at < 0 ? mailbox : mailbox[..at];
            if (local.IsEmpty || !IsAtomText(local, utf8Allowed))
            {
                return false;
            }
            if (at < 0)
            {
                return true;
            }
        }
        if (at >= mailbox.Length)
        {
            return true;
        }
        return IsDomain(mailbox[(at + 1)..], utf8Allowed);
    }

    private static bool IsAtomText(ReadOnlySpan<byte> text, bool utf8Allowed)
    {
        foreach (byte b in text)
        {
            if (b <= 0x20 || b == 0x7f || b is (byte)'<' or (byte)'>' or (byte)'(' or (byte)')' or (byte)','
                    or (byte)';' or (byte)':' or (byte)'\\' or (byte)'"' or (byte)'[' or (byte)']' or (byte)'@')
            {
                return false;
            }
            if (b >= 0x80 && !utf8Allowed)
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsDomain(ReadOnlySpan<byte> domain, bool utf8Allowed)
    {
        if (domain.IsEmpty)
        {
            return false;
        }
        if (domain[0] == (byte)'[')
        {
            if (domain[^1] != (byte)']' || domain.Length < 3)
            {
                return false;
            }
            foreach (byte b in domain[1..^1])
            {
                if (b <= 0x20 || b >= 0x7f || b is (byte)'[' or (byte)']' or (byte)'\\')
                {
                    return false;
                }
            }
            return true;
        }
        int labelLength = 0;
        foreach (byte b in domain)
        {
            if (b == (byte)'.')
            {
                if (labelLength == 0)
                {
                    return false;
                }
                labelLength = 0;
                continue;
            }
            bool ok = (b | 0x20) is >= (byte)'a' and <= (byte)'z' || b is >= (byte)'0' and <= (byte)'9'
                      || b is (byte)'-' or (byte)'_' || (b >= 0x80 && utf8Allowed);
            if (!ok)
            {
                return false;
            }
            labelLength++;
        }
        return true;
    }
}
