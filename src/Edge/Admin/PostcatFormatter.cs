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
        StringBuilder head = EnvelopeText.Append(new StringBuilder(), m, "incoming", store.Entry(m.Id)?.Done);
        head.Append("*** MESSAGE CONTENTS ").Append(m.Id).Append(" ***\n");
        await output.WriteAsync(Encoding.UTF8.GetBytes(head.ToString()), cancellationToken);
        await store.CopyContentAsync(m, output, cancellationToken);
        await output.WriteAsync(Encoding.UTF8.GetBytes($"*** MESSAGE FILE END {m.Id} ***\n"), cancellationToken);
    }
}
