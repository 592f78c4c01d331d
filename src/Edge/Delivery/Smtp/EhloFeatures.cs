namespace Edge.Delivery.Smtp;

/// <summary>The ESMTP extensions a server announced in its EHLO (or LHLO) reply that the client uses.</summary>
internal sealed record EhloFeatures(
    bool Pipelining,
    bool Size,
    long SizeLimit,
    bool EightBitMime,
    bool SmtpUtf8,
    bool Dsn,
    bool StartTls)
{
    /// <summary>After HELO: plain SMTP, no extension.</summary>
    public static EhloFeatures None { get; } = new(false, false, 0, false, false, false, false);

    /// <summary>The keywords of every line after the first (which names the server), case-insensitive.</summary>
    public static EhloFeatures Parse(SmtpReply reply)
    {
        bool pipelining = false, size = false, eightBitMime = false, smtpUtf8 = false, dsn = false, startTls = false;
        long sizeLimit = 0;
        for (int i = 1; i < reply.Lines.Count; i++)
        {
            string line = reply.Lines[i];
            ReadOnlySpan<char> text = line.Length > 4 ? line.AsSpan(4).Trim() : [];
            int space = text.IndexOf(' ');
            ReadOnlySpan<char> keyword = space < 0 ? text : text[..space];
            ReadOnlySpan<char> argument = space < 0 ? [] : text[(space + 1)..].Trim();
            if (keyword.Equals("PIPELINING", StringComparison.OrdinalIgnoreCase))
            {
                pipelining = true;
            }
            else if (keyword.Equals("SIZE", StringComparison.OrdinalIgnoreCase))
            {
                size = true;
                // "SIZE" alone, or "SIZE 0", means no announced limit.
                sizeLimit = long.TryParse(argument, out long limit) && limit > 0 ? limit : 0;
            }
            else if (keyword.Equals("8BITMIME", StringComparison.OrdinalIgnoreCase))
            {
                eightBitMime = true;
            }
            else if (keyword.Equals("SMTPUTF8", StringComparison.OrdinalIgnoreCase))
            {
                smtpUtf8 = true;
            }
            else if (keyword.Equals("DSN", StringComparison.OrdinalIgnoreCase))
            {
                dsn = true;
            }
            else if (keyword.Equals("STARTTLS", StringComparison.OrdinalIgnoreCase))
            {
                startTls = true;
            }
        }
        return new EhloFeatures(pipelining, size, sizeLimit, eightBitMime, smtpUtf8, dsn, startTls);
    }
}
