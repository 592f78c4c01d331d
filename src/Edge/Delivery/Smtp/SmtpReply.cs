namespace Edge.Delivery.Smtp;

/// <summary>
/// One server reply: its code (from the last line; 0 when a line had no three-digit code) and its lines as
/// they came, without CRLF.
/// </summary>
internal sealed class SmtpReply(int code, IReadOnlyList<string> lines)
{
    public int Code { get; } = code;
    public IReadOnlyList<string> Lines { get; } = lines;

    public bool IsPositive => Code / 100 == 2;
    public bool IsIntermediate => Code / 100 == 3;
    public bool IsPermanent => Code / 100 == 5;

    /// <summary>A 421 reply: the server is closing the connection, which cannot be used any more.</summary>
    public bool IsClosing => Code == 421;

    /// <summary>The reply as Postfix logs it: all lines, codes included, joined with a space.</summary>
    public string Text => Lines.Count == 1 ? Lines[0] : string.Join(' ', Lines);

    /// <summary>
    /// The enhanced status code of the first line when it has one of the reply's class (Postfix ignores one
    /// that contradicts the reply code), else one derived from the reply code: 2.0.0, 5.0.0 or 4.0.0.
    /// </summary>
    public string Dsn
    {
        get
        {
            char expected = IsPositive ? '2' : IsPermanent ? '5' : '4';
            string first = Lines.Count > 0 ? Lines[0] : "";
            if (first.Length > 4 && IsEnhancedCode(first.AsSpan(4), out int length) && first[4] == expected)
            {
                return first.Substring(4, length);
            }
            return IsPositive ? "2.0.0" : IsPermanent ? "5.0.0" : "4.0.0";
        }
    }

    /// <summary>The recipient status this reply decides: 2xx sent, 5xx bounced, anything else deferred.</summary>
    public RecipientStatus Status => IsPositive ? RecipientStatus.Sent : IsPermanent ? RecipientStatus.Bounced : RecipientStatus.Deferred;

    // class "." subject "." detail, with 1-3 digits for subject and detail (RFC 3463), then a space or the end.
    private static bool IsEnhancedCode(ReadOnlySpan<char> text, out int length)
    {
        length = 0;
        if (text.Length < 5 || text[0] is not ('2' or '4' or '5') || text[1] != '.')
        {
            return false;
        }
        int p = 2;
        for (int part = 0; part < 2; part++)
        {
            int digits = 0;
            while (p < text.Length && char.IsAsciiDigit(text[p]) && digits < 3)
            {
                p++;
                digits++;
            }
            if (digits == 0)
            {
                return false;
            }
            if (part == 0)
            {
                if (p >= text.Length || text[p] != '.')
                {
                    return false;
                }
                p++;
            }
        }
        if (p < text.Length && text[p] != ' ')
        {
            return false;
        }
        length = p;
        return true;
    }
}
