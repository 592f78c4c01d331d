using System.Text;
using Edge.Mail;

namespace Edge.Queue;

/// <summary>
/// A message's envelope in postcat's words (Postfix's record names): for postcat, and for the readable copy of a
/// damaged message in the corrupt queue.
/// </summary>
internal static class EnvelopeText
{
    /// <summary>
    /// The envelope records; a recipient that is finished shows as done_recipient, as in a Postfix queue file, and
    /// one whose last attempt was deferred with its <c>delay_reason</c> when <paramref name="reasons"/> are given.
    /// </summary>
    public static StringBuilder Append(StringBuilder text, QueuedMessage m, string queue, IReadOnlyList<bool>? done = null,
        IReadOnlyList<string?>? reasons = null)
    {
        text.Append($"*** ENVELOPE RECORDS {queue}/{m.Id} ***\n");
        text.Append($"message_size: {m.Size,16} {0,16} {m.Recipients.Count,16} {0,16} {m.Size,16}\n");
        text.Append($"message_arrival_time: {m.Id.Arrival.UtcDateTime:ddd MMM d HH:mm:ss yyyy}\n");
        text.Append($"create_time: {m.Id.Arrival.UtcDateTime:ddd MMM d HH:mm:ss yyyy}\n");
        text.Append("named_attribute: rewrite_context=remote\n");
        text.Append($"named_attribute: client_name={m.ClientName}\n");
        text.Append($"named_attribute: client_address={m.ClientAddress}\n");
        text.Append($"named_attribute: helo_name={m.Helo}\n");
        text.Append($"named_attribute: protocol_name={m.Protocol}\n");
        if (m.EnvId.Length > 0)
        {
            text.Append($"dsn_envid: {m.EnvId}\n");
        }
        if (m.Ret != DsnReturn.Unspecified)
        {
            text.Append($"dsn_ret: {(m.Ret == DsnReturn.Full ? 1 : 2)}\n");
        }
        text.Append($"sender: {m.Sender}\n");
        for (int r = 0; r < m.Recipients.Count; r++)
        {
            QueuedRecipient recipient = m.Recipients[r];
            if (recipient.Orcpt.Length > 0)
            {
                text.Append($"original_recipient: {recipient.Orcpt}\n");
            }
            if (recipient.Notify != DsnNotify.Unspecified)
            {
                text.Append($"dsn_notify: {(int)recipient.Notify}\n");
            }
            text.Append(done is not null && done[r] ? "done_recipient: " : "recipient: ").Append(recipient.Address).Append('\n');
            if (reasons?[r] is string reason)
            {
                text.Append($"delay_reason: {reason}\n");
            }
        }
        return text;
    }
}
