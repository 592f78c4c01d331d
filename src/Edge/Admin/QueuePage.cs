using System.Globalization;
using System.Net;
using System.Text;
using Edge.Queue;

namespace Edge.Admin;

/// <summary>A destination as the scheduler holds it now: its concurrency window, deliveries in progress, and whether it is dead.</summary>
internal sealed record DestinationRow(string Transport, string Nexthop, int Window, int Busy, DateTimeOffset? DeadUntil, string? DeadReason);

/// <summary>What the server did in the last minute, for the page's live rates.</summary>
internal sealed record RecentRates(long Queued, long Sent, long Deferred, long Bounced);

/// <summary>
/// The queue page (GET /queue with edge_admin_api): one server-rendered HTML page, no script, that reloads itself every
/// ten seconds: the queues' sizes, the last minute's rates, the queue's shape by recipient domain and age (qshape),
/// the deferral reasons grouped, the destinations' windows, and the held and deferred messages.
/// </summary>
internal static class QueuePage
{
    public static string Render(IReadOnlyList<(QueuedMessage Message, QueueEntry Entry)> queue, IReadOnlyList<DestinationRow> destinations,
        RecentRates rates, string hostname, DateTimeOffset now)
    {
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="10">
            """);
        html.Append("<title>").Append(E(hostname)).Append(" queue</title>");
        html.Append("""
            <style>
            body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}
            table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
            td.l,th.l{text-align:left}th{background:#f2f2f2}.dead{color:#a00}
            </style></head><body>
            """);
        html.Append("<h1>").Append(E(hostname)).Append(" queue</h1><p>").Append(now.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append("</p>");

        string[] names = ["incoming", "active", "deferred", "hold"];
        html.Append("<h2>Queues</h2><table id=\"queues\"><tr>");
        foreach (string name in names)
        {
            html.Append("<th>").Append(name).Append("</th>");
        }
        html.Append("</tr><tr>");
        foreach (string name in names)
        {
            html.Append("<td>").Append(queue.Count(q => q.Entry.QueueName == name)).Append("</td>");
        }
        html.Append("</tr></table>");

        html.Append("<h2>Last minute</h2><table id=\"rates\"><tr><th>queued</th><th>sent</th><th>deferred</th><th>bounced</th></tr><tr>")
            .Append("<td>").Append(rates.Queued).Append("</td><td>").Append(rates.Sent).Append("</td><td>").Append(rates.Deferred)
            .Append("</td><td>").Append(rates.Bounced).Append("</td></tr></table>");

        QueueShape shape = QshapeFormatter.Shape(queue, senders: false, now);
        html.Append("<h2>By recipient domain and age (minutes)</h2><table id=\"shape\"><tr><th class=\"l\">domain</th>");
        foreach (string header in shape.Headers)
        {
            html.Append("<th>").Append(E(header)).Append("</th>");
        }
        html.Append("</tr>");
        foreach ((string domain, int[] counts) in shape.Rows.Prepend(("TOTAL", shape.Total)))
        {
            html.Append("<tr><td class=\"l\">").Append(E(domain)).Append("</td>");
            foreach (int count in counts)
            {
                html.Append("<td>").Append(count).Append("</td>");
            }
            html.Append("</tr>");
        }
        html.Append("</table>");

        var reasons = queue.SelectMany(q => q.Entry.Reasons.Where((reason, r) => reason is not null && !q.Entry.Done[r]))
            .GroupBy(reason => reason!).OrderByDescending(g => g.Count()).ToList();
        html.Append("<h2>Deferral reasons</h2><table id=\"reasons\"><tr><th>recipients</th><th class=\"l\">reason</th></tr>");
        foreach (IGrouping<string, string?> reason in reasons)
        {
            html.Append("<tr><td>").Append(reason.Count()).Append("</td><td class=\"l\">").Append(E(reason.Key)).Append("</td></tr>");
        }
        html.Append("</table>");

        html.Append("<h2>Destinations</h2><table id=\"destinations\"><tr><th class=\"l\">transport</th><th class=\"l\">next hop</th>")
            .Append("<th>window</th><th>in progress</th><th class=\"l\">state</th></tr>");
        foreach (DestinationRow d in destinations.OrderBy(d => d.Transport).ThenBy(d => d.Nexthop))
        {
            bool dead = d.DeadUntil is { } until && until > now;
            html.Append("<tr><td class=\"l\">").Append(E(d.Transport)).Append("</td><td class=\"l\">").Append(E(d.Nexthop)).Append("</td><td>")
                .Append(d.Window).Append("</td><td>").Append(d.Busy).Append("</td><td class=\"l").Append(dead ? " dead\">dead until " : "\">alive");
            if (dead)
            {
                html.Append(d.DeadUntil!.Value.ToString("HH:mm:ss", CultureInfo.InvariantCulture)).Append(": ").Append(E(d.DeadReason ?? ""));
            }
            html.Append("</td></tr>");
        }
        html.Append("</table>");

        html.Append("<h2>Held and deferred messages</h2><table id=\"messages\"><tr><th class=\"l\">queue ID</th><th class=\"l\">queue</th>")
            .Append("<th class=\"l\">arrival</th><th>size</th><th class=\"l\">sender</th><th class=\"l\">recipients</th></tr>");
        foreach ((QueuedMessage m, QueueEntry entry) in queue.Where(q => q.Entry.QueueName is "hold" or "deferred").OrderBy(q => q.Message.Id.Arrival))
        {
            string recipients = string.Join(", ", m.Recipients.Where((_, r) => !entry.Done[r]).Select(r => r.Address));
            html.Append("<tr><td class=\"l\">").Append(m.Id).Append("</td><td class=\"l\">").Append(entry.QueueName).Append("</td><td class=\"l\">")
                .Append(m.Id.Arrival.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append("</td><td>").Append(m.Size)
                .Append("</td><td class=\"l\">").Append(E(m.Sender.Length == 0 ? "MAILER-DAEMON" : m.Sender)).Append("</td><td class=\"l\">")
                .Append(E(recipients)).Append("</td></tr>");
        }
        html.Append("</table></body></html>\n");
        return html.ToString();
    }

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
