using System.Globalization;
using System.Text.Unicode;

namespace Edge.Mail;

/// <summary>
/// Postfix's mail_date(): the date of a Date: or Received: header, "Sat,  5 Dec 2026 14:11:45 +0000 (UTC)" (the day
/// padded with a space to two places). Edge writes it in UTC.
/// </summary>
internal static class MailDate
{
    public static string Format(DateTimeOffset time)
    {
        DateTime utc = time.UtcDateTime;
        return string.Create(CultureInfo.InvariantCulture, $"{utc:ddd}, {utc.Day,2} {utc:MMM yyyy HH:mm:ss} +0000 (UTC)");
    }

    public static bool TryWrite(Span<byte> destination, DateTimeOffset time, out int written)
    {
        DateTime utc = time.UtcDateTime;
        return Utf8.TryWrite(destination, CultureInfo.InvariantCulture, $"{utc:ddd}, {utc.Day,2} {utc:MMM yyyy HH:mm:ss} +0000 (UTC)", out written);
    }
}
