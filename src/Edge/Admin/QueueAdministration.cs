using System.Text;
using System.Text.Json;
using Edge.Logging;
using Edge.Mail;
using Edge.Queue;

namespace Edge.Admin;

/// <summary>postsuper's operations and postqueue -j, on the queue of a running server or a stopped one.</summary>
internal static class QueueAdministration
{
    /// <summary>The queue names postsuper takes; Edge has no maildrop, so that one is always empty.</summary>
    public static readonly IReadOnlySet<string> QueueNames = new HashSet<string> { "hold", "incoming", "active", "deferred", "maildrop" };

    /// <summary>
    /// postsuper -d (delete), -h (hold), -H (release from hold), -r (requeue: due now) on one queue ID or ALL,
    /// in the named queues only, if any are named (Postfix's defaults otherwise: -H looks at hold, the others
    /// at every queue). Returns Postfix's summary ("postsuper: Deleted: 2 messages"), or null when the ID is
    /// not queued.
    /// </summary>
    public static async Task<string?> SuperAsync(QueueStore store, char operation, string target, IReadOnlyCollection<string> queues,
        Action? wake)
    {
        List<QueueEntry> entries;
        if (target == "ALL")
        {
            entries = [.. store.Entries.Where(e => queues.Count == 0 || queues.Contains(e.QueueName))];
        }
        else if (QueueId.TryParse(target, out QueueId? id) && store.Entry(id.Value) is QueueEntry entry
                 && (queues.Count == 0 || queues.Contains(entry.QueueName)))
        {
            entries = [entry];
        }
        else
        {
            return null;
        }
        long last = -1;
        int changed = 0;
        var removed = new List<QueueEntry>();
        foreach (QueueEntry entry in entries)
        {
            switch (operation)
            {
                case 'd':
                    last = store.AppendRemoval(entry);
                    removed.Add(entry);
                    changed++;
                    break;
                case 'h' when !entry.Hold:
                    last = store.SetHold(entry, true);
                    MailLog.Info($"{entry.Id}: placed on hold", "postsuper");
                    changed++;
                    break;
                case 'H' when entry.Hold:
                    last = store.SetHold(entry, false);
                    MailLog.Info($"{entry.Id}: released from hold", "postsuper");
                    changed++;
                    break;
                case 'r':
                    // As in Postfix, where a requeued message goes through pickup again: out of hold, too.
                    if (entry.Hold)
                    {
                        last = store.SetHold(entry, false);
                    }
                    entry.NextAttempt = DateTimeOffset.MinValue;
                    MailLog.Info($"{entry.Id}: requeued", "postsuper");
                    changed++;
                    break;
            }
        }
        if (last >= 0)
        {
            try
            {
                await store.CommitAsync(last);
            }
            catch (IOException)
            {
                // A removal the disk did not take fails the command and changes nothing: the messages stay queued.
                removed.ForEach(e => e.Removing = false);
                throw;
            }
        }
        // Only what is on disk is reported.
        foreach (QueueEntry entry in removed)
        {
            store.Forget(entry);
            MailLog.Info($"{entry.Id}: removed", "postsuper");
        }
        wake?.Invoke();
        string what = operation switch
        {
            'd' => "Deleted",
            'h' => "Placed on hold",
            'H' => "Released from hold",
            _ => "Requeued",
        };
        return changed == 0 ? "" : $"postsuper: {what}: {changed} message{(changed == 1 ? "" : "s")}\n";
    }

    /// <summary>postqueue -j: one JSON object per message and line, with Postfix's field names.</summary>
    public static async Task<string> JsonAsync(QueueStore store, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        foreach ((QueuedMessage m, QueueEntry entry) in await store.ListAsync(cancellationToken))
        {
            using var buffer = new MemoryStream();
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("queue_name", entry.QueueName);
                json.WriteString("queue_id", m.Id.ToString());
                json.WriteNumber("arrival_time", m.Id.Arrival.ToUnixTimeSeconds());
                json.WriteNumber("message_size", m.Size);
                json.WriteBoolean("forced_expire", false);
                json.WriteString("sender", m.Sender);
                json.WriteStartArray("recipients");
                for (int r = 0; r < m.Recipients.Count; r++)
                {
                    if (entry.Done[r])
                    {
                        continue;
                    }
                    json.WriteStartObject();
                    json.WriteString("address", m.Recipients[r].Address);
                    if (entry.Reasons[r] is string reason)
                    {
                        json.WriteString("delay_reason", reason);
                    }
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            text.Append(Encoding.UTF8.GetString(buffer.ToArray())).Append('\n');
        }
        return text.ToString();
    }
}
