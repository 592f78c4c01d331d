using System.Text;
using Edge.Queue;

namespace Edge.Admin;

/// <summary>
/// postcat -q output: the envelope records in Postfix's naming, then the message content as stored.
/// </summary>
internal static class PostcatFormatter
{
    public static async Task WriteAsync(QueueStore store, QueuedMessage m, Stream output, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        head.Append($"*** ENVELOPE RECORDS incoming/{m.Id} ***\n");
        head.Append($"message_size: {m.Size,16} {0,16} {m.Recipients.Count,16} {0,16} {m.Size,16}\n");
        head.Append($"message_arrival_time: {m.Id.Arrival.UtcDateTime:ddd MMM d HH:mm:ss yyyy}\n");
        head.Append($"create_time: {m.Id.Arrival.UtcDateTime:ddd MMM d HH:mm:ss yyyy}\n");
        head.Append($"named_attribute: rewrite_context=remote\n");
        head.Append($"named_attribute: client_name={m.ClientName}\n");
        head.Append($"named_attribute: client_address={m.ClientAddress}\n");
        head.Append($"named_attribute: helo_name={m.Helo}\n");
        head.Append($"named_attribute: protocol_name={m.Protocol}\n");
        if (m.EnvId.Length > 0)
        {
            head.Append($"dsn_envid: {m.EnvId}\n");
        }
        if (m.Ret != Smtp.Protocol.DsnReturn.Unspecified)
        {
            head.Append($"dsn_ret: {(m.Ret == Smtp.Protocol.DsnReturn.Full ? 1 : 2)}\n");
        }
        head.Append($"sender: {m.Sender}\n");
        foreach (QueuedRecipient r in m.Recipients)
        {
            if (r.Orcpt.Length > 0)
            {
                head.Append($"original_recipient: {r.Orcpt}\n");
            }
            if (r.Notify != Smtp.Protocol.DsnNotify.Unspecified)
            {
                head.Append($"dsn_notify: {(int)r.Notify}\n");
            }
            head.Append($"recipient: {r.Address}\n");
        }
        head.Append("*** MESSAGE CONTENTS ").Append(m.Id).Append(" ***\n");
        await output.WriteAsync(Encoding.UTF8.GetBytes(head.ToString()), cancellationToken);
        await store.CopyContentAsync(m, output, cancellationToken);
        await output.WriteAsync(Encoding.UTF8.GetBytes($"*** MESSAGE FILE END {m.Id} ***\n"), cancellationToken);
    }
}
