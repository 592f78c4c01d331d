using System.Text;
using Edge.Mail;
using Edge.Queue;
using Edge.Streams;

namespace Edge.Cleanup;

/// <summary>
/// Mail that Edge writes itself (bounces and notices, copies a local alias forwards), submitted to cleanup like
/// mail received by SMTP, without a Received: header: its recipients pass the address mappings and the duplicate
/// filter, and it is queued once durable.
/// </summary>
internal sealed class LocalSubmission(QueueStore queue)
{
    private static readonly Submission Local = new(new EnvelopeRecord.Client("localhost", "127.0.0.1", "localhost", "local"),
        Helo: null, TlsSummary: null, Received: false);

    public async Task<QueueId> SubmitAsync(CleanupSettings settings, string sender, IReadOnlyList<string> recipients,
        Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken)
    {
        var envelope = new Envelope();
        using var cleanup = new CleanupMessage(queue);
        QueueId id = QueueId.New();
        envelope.Begin(id, Encoding.UTF8.GetBytes(sender), default, DsnReturn.Unspecified, BodyType.Unspecified, smtpUtf8: false);
        foreach (string recipient in recipients)
        {
            envelope.AddRecipient(Encoding.UTF8.GetBytes(recipient), default, DsnNotify.Unspecified);
        }
        cleanup.Begin(settings, envelope, Local, sizeLimit: 0);
        await using (var content = new SinkStream(cleanup))
        {
            await writeContent(content, cancellationToken);
        }
        CleanupResult result = cleanup.End(saved: null);
        switch (result.Outcome)
        {
            case CleanupOutcome.Queued:
                break;
            case CleanupOutcome.Discarded:
                return id;
            default:
                throw new IOException($"{id}: cleanup did not queue the message: {result.Reply ?? result.Outcome.ToString()}");
        }
        try
        {
            await cleanup.WaitCommittedAsync(result.Address, new CommitWaiter());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            cleanup.WriteFailed(e);
            throw;
        }
        cleanup.Committed(result.Address);
        return id;
    }

    /// <summary>A write-only stream in front of cleanup.</summary>
    private sealed class SinkStream(IContentSink sink) : WriteOnlyStream
    {
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            sink.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }
    }
}
