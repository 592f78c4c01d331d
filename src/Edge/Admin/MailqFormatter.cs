using System.Globalization;
using System.Text;
using Edge.Queue;

namespace Edge.Admin;

/// <summary>
/// postqueue -p output in Postfix's long-queue-ID layout (showq_compat.c): a heading, one block per message
/// (ID and status marker, size, arrival time, sender, then each recipient indented), and the totals line.
/// </summary>
internal static class MailqFormatter
{
    public static string Format(IReadOnlyList<(QueuedMessage Message, QueueEntry Entry)> messages)
    {
        if (messages.Count == 0)
        {
            return "Mail queue is empty\n";
        }
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"----Queue ID-----",-17} {"--Size--",8} {"---Arrival Time----",-19} {"--Sender/Recipient------"}\n");
        long totalBytes = 0;
        for (int i = 0; i < messages.Count; i++)
        {
            (QueuedMessage m, QueueEntry entry) = messages[i];
            if (i > 0)
            {
                text.Append('\n');
            }
            totalBytes += m.Size;
            string sender = m.Sender.Length == 0 ? "MAILER-DAEMON" : m.Sender;
            string id = m.Id.ToString() + (entry.Active ? "*" : entry.Hold ? "!" : " ");
            string arrival = AscTime(m.Id.Arrival.ToLocalTime());
            text.Append(CultureInfo.InvariantCulture, $"{id,-17} {m.Size,8} {arrival,19} {sender}\n");
            // As showq: each recipient still to deliver, under the reason it waits for when that changes.
            string previous = "";
            for (int r = 0; r < m.Recipients.Count; r++)
            {
                if (entry.Done[r])
                {
                    continue;
                }
                string reason = entry.Reasons[r] ?? "";
                if (reason != previous)
                {
                    string shown = reason.Length > 0 ? reason : "reason unavailable";
                    text.Append(' ', Math.Max(0, 76 - shown.Length)).Append('(').Append(shown).Append(")\n");
                    previous = reason;
                }
                text.Append(CultureInfo.InvariantCulture, $"{"",-17} {"",8} {"",-19} {m.Recipients[r].Address}\n");
            }
        }
        string requests = messages.Count == 1 ? "Request" : "Requests";
        text.Append(CultureInfo.InvariantCulture, $"\n-- {totalBytes / 1024} Kbytes in {messages.Count} {requests}.\n");
        return text.ToString();
    }

    /// <summary>asctime(3) without the year: "Sun Nov 22 00:15:01".</summary>
    private static string AscTime(DateTimeOffset time)
    {
        string day = time.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2);
        return time.ToString("ddd MMM ", CultureInfo.InvariantCulture) + day + time.ToString(" HH:mm:ss", CultureInfo.InvariantCulture);
    }
}
