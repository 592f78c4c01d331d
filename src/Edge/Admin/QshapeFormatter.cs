using System.Text;
using Edge.Queue;

namespace Edge.Admin;

/// <summary>The queue's shape: the age columns' headers, the TOTAL row, then one row per domain, busiest first.</summary>
internal sealed record QueueShape(string[] Headers, int[] Total, IReadOnlyList<(string Domain, int[] Counts)> Rows);

/// <summary>
/// qshape(1): the queue's shape, one row per recipient (or sender) domain and one column per age bucket in
/// minutes (5, 10, 20 … doubling), with the TOTAL row first and the busiest domains after it.
/// </summary>
internal static class QshapeFormatter
{
    public static string Format(IReadOnlyList<(QueuedMessage Message, QueueEntry Entry)> queue, bool senders,
        DateTimeOffset now, int bucketMinutes = 5, int buckets = 10)
    {
        QueueShape shape = Shape(queue, senders, now, bucketMinutes, buckets);
        int[] widths = [.. shape.Headers.Select(h => Math.Max(h.Length, 4))];
        var text = new StringBuilder();
        void Row(string name, IEnumerable<string> cells)
        {
            text.Append(name.PadLeft(30));
            int i = 0;
            foreach (string cell in cells)
            {
                text.Append(' ').Append(cell.PadLeft(widths[i++]));
            }
            text.Append('\n');
        }
        Row("", shape.Headers);
        Row("TOTAL", shape.Total.Select(c => c.ToString()));
        foreach ((string domain, int[] counts) in shape.Rows)
        {
            Row(domain, counts.Select(c => c.ToString()));
        }
        return text.ToString();
    }

    public static QueueShape Shape(IReadOnlyList<(QueuedMessage Message, QueueEntry Entry)> queue, bool senders,
        DateTimeOffset now, int bucketMinutes = 5, int buckets = 10)
    {
        int[] limits = [.. Enumerable.Range(0, buckets - 1).Select(i => bucketMinutes << i)];
        var rows = new Dictionary<string, int[]>(StringComparer.OrdinalIgnoreCase);
        int[] total = new int[buckets + 1];
        foreach ((QueuedMessage m, QueueEntry entry) in queue)
        {
            double minutes = (now - m.Id.Arrival).TotalMinutes;
            int bucket = limits.Length;
            for (int i = 0; i < limits.Length; i++)
            {
                if (minutes <= limits[i])
                {
                    bucket = i;
                    break;
                }
            }
            IEnumerable<string> addresses = senders
                ? [m.Sender]
                : m.Recipients.Where((_, r) => !entry.Done[r]).Select(r => r.Address);
            foreach (string address in addresses)
            {
                int at = address.LastIndexOf('@');
                string domain = at < 0 ? (address.Length == 0 ? "MAILER-DAEMON" : address) : address[(at + 1)..].ToLowerInvariant();
                if (!rows.TryGetValue(domain, out int[]? row))
                {
                    rows[domain] = row = new int[buckets + 1];
                }
                foreach (int[] counts in new[] { row, total })
                {
                    counts[0]++;
                    counts[bucket + 1]++;
                }
            }
        }

        string[] headers = ["T", .. limits.Select(l => l.ToString()), $"{limits[^1]}+"];
        return new QueueShape(headers, total, [.. rows.OrderByDescending(r => r.Value[0]).ThenBy(r => r.Key).Select(r => (r.Key, r.Value))]);
    }
}
