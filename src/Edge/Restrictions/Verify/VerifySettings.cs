using Edge.Config;

namespace Edge.Restrictions.Verify;

/// <summary>verify(8)'s settings: how long answers are kept and trusted, and the probe's sender.</summary>
internal sealed record VerifySettings(
    TimeSpan PositiveExpire,
    TimeSpan PositiveRefresh,
    TimeSpan NegativeExpire,
    TimeSpan NegativeRefresh,
    bool NegativeCache,
    string Sender,
    TimeSpan SenderTtl,
    bool Persistent)
{
    /// <summary>Throws the configuration error Postfix's verify(8) would stop on.</summary>
    public static VerifySettings From(MainConfig config)
    {
        string sender = config.Get("address_verify_sender");
        if (sender.StartsWith('@'))
        {
            throw config.Error("address_verify_sender", $"value \"{sender}\" must not start with '@'");
        }
        if (sender.EndsWith('@'))
        {
            throw config.Error("address_verify_sender", $"value \"{sender}\" must not end with '@'");
        }
        return new VerifySettings(
            config.GetTime("address_verify_positive_expire_time"), config.GetTime("address_verify_positive_refresh_time"),
            config.GetTime("address_verify_negative_expire_time"), config.GetTime("address_verify_negative_refresh_time"),
            config.GetBool("address_verify_negative_cache"), sender == "<>" ? "" : sender, config.GetTime("address_verify_sender_ttl"),
            config.Get("address_verify_map").Length > 0);
    }

    /// <summary>
    /// make_verify_sender_addr(): the probe's sender, with address_verify_sender_ttl the time period's number in base 31
    /// appended to its local part, so that a next hop cannot cache answers for it forever. Not yet qualified.
    /// </summary>
    public string SenderAt(DateTimeOffset now)
    {
        if (Sender.Length == 0 || SenderTtl <= TimeSpan.Zero)
        {
            return Sender;
        }
        int at = Sender.IndexOf('@');
        string local = at < 0 ? Sender : Sender[..at];
        string domain = at < 0 ? "" : Sender[at..];
        return local + Base31((ulong)(now.ToUnixTimeSeconds() / (long)SenderTtl.TotalSeconds)) + domain;
    }

    private static string Base31(ulong value)
    {
        // safe_ultostr()'s digits: no vowels, so that no word is spelt by accident.
        const string Digits = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
        Span<char> buffer = stackalloc char[16];
        int start = buffer.Length;
        do
        {
            buffer[--start] = Digits[(int)(value % 31)];
            value /= 31;
        }
        while (value > 0);
        return new string(buffer[start..]);
    }
}
