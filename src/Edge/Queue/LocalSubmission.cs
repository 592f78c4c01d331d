using System.Text;
using Edge.Smtp.Data;
using Edge.Smtp.Protocol;
using Edge.Streams;

namespace Edge.Queue;

/// <summary>
/// Mail that Edge writes itself (bounces), queued exactly as a received message is: chunks as the content is
/// produced, the envelope record, the group commit, then the index.
/// </summary>
internal sealed class LocalSubmission(QueueStore queue)
{
    private static readonly EnvelopeRecord.Client Local = new("localhost", "127.0.0.1", "localhost", "local");

    public async Task<QueueId> SubmitAsync(string sender, IReadOnlyList<string> recipients,
        Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken)
    {
        var envelope = new Envelope();
        var writer = new MessageWriter(queue);
        var waiter = new CommitWaiter();
        QueueId id = QueueId.New();
        try
        {
            envelope.Begin(id, Encoding.UTF8.GetBytes(sender), default, DsnReturn.Unspecified, BodyType.Unspecified, smtpUtf8: false);
            foreach (string recipient in recipients)
            {
                envelope.AddRecipient(Encoding.UTF8.GetBytes(recipient), default, DsnNotify.Unspecified);
            }
            writer.Begin(id, limit: 0);
            await using (var content = new SinkStream(writer))
            {
                await writeContent(content, cancellationToken);
            }
            long address = queue.AppendMessage(envelope, Local, writer);
            await queue.WaitCommittedAsync(address, waiter);
            queue.AddQueued(id, address, recipients.Count, writer.Chunks);
            return id;
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>A write-only stream in front of the message writer.</summary>
    private sealed class SinkStream(IContentSink sink) : WriteOnlyStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            sink.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
    }
}
