using System.Text;
using Edge.Mail;
using Edge.Milter;
using Edge.Queue;
using Edge.Streams;

namespace Edge.Cleanup;

/// <summary>
/// Mail that Edge writes itself (bounces and notices, copies a local alias forwards), submitted to cleanup like
/// mail received by SMTP, without a Received: header: its recipients pass the address mappings and the duplicate
/// filter, its content the checks and filters its kind gets, and it is queued once durable.
/// </summary>
internal sealed class LocalSubmission(QueueStore queue)
{
    private static readonly Submission Local = new(new EnvelopeRecord.Client("localhost", "127.0.0.1", "localhost", "local"),
        Helo: null, TlsSummary: null, Received: false);

    private static readonly Submission Forwarded = Local with { LocalHeaders = false };

    /// <param name="kind">What cleanup does to this kind of mail (<see cref="InternalMailKinds"/>).</param>
    public Task<QueueId> SubmitAsync(InternalMail kind, string sender, IReadOnlyList<string> recipients,
        Func<Stream, CancellationToken, Task> writeContent, CancellationToken cancellationToken) =>
        SubmitAsync(kind, sender, recipients, writeContent, new LocalDsn("", DsnReturn.Unspecified, DsnNotify.Unspecified), null, cancellationToken);

    /// <summary>
    /// As the other overload, with DSN requests (sendmail's -V, -R and -N) and, for mail a user submitted with sendmail,
    /// the user's uid, which gets the message pickup's Received: header.
    /// </summary>
    public async Task<QueueId> SubmitAsync(InternalMail kind, string sender, IReadOnlyList<string> recipients,
        Func<Stream, CancellationToken, Task> writeContent, LocalDsn dsn, uint? userid, CancellationToken cancellationToken)
    {
        var envelope = new Envelope();
        using var cleanup = new CleanupMessage(queue);
        QueueId id = QueueId.New();
        envelope.Begin(id, Encoding.UTF8.GetBytes(sender), Encoding.UTF8.GetBytes(dsn.EnvId), dsn.Ret, BodyType.Unspecified, smtpUtf8: false);
        foreach (string recipient in recipients)
        {
            envelope.AddRecipient(Encoding.UTF8.GetBytes(recipient), default, dsn.Notify);
        }
        Submission submission = kind.LocalHeaders ? Local : Forwarded;
        cleanup.Begin(kind.Cleanup, envelope, userid is null ? submission : submission with { Received = true, Userid = userid }, sizeLimit: 0);
        await using (var content = new SinkStream(cleanup))
        {
            await writeContent(content, cancellationToken);
        }
        CleanupResult result = kind.Milters is not { } milters ? cleanup.End(saved: null)
            : await FilterAsync(cleanup, milters, sender, recipients, id, cancellationToken);
        switch (result.Outcome)
        {
            case CleanupOutcome.Queued:
                break;
            case CleanupOutcome.Discarded:
                return id;
            // Refused for good (a 5XX from a filter or the checks, too big, a loop): the message is at fault. Anything
            // else (a full disk, a 4XX, a shutdown) may pass when tried again.
            case CleanupOutcome.TooBig or CleanupOutcome.TooManyHops:
            case CleanupOutcome.Rejected when result.Reply is ['5', ..]:
                throw new MessageRejectedException($"{id}: cleanup did not queue the message: {result.Reply ?? result.Outcome.ToString()}");
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

    /// <summary>
    /// The message through non_smtpd_milters, with the envelope events a local submission has (Postfix's cleanup
    /// reports such mail as coming from localhost [127.0.0.1]).
    /// </summary>
    private static async Task<CleanupResult> FilterAsync(CleanupMessage cleanup, MilterSettings settings, string sender,
        IReadOnlyList<string> recipients, QueueId id, CancellationToken cancellationToken)
    {
        await using MilterChain milters = await MilterChain.OpenAsync(settings, cancellationToken);
        milters.Macros["i"] = id.ToString();
        string? reply = await milters.ConnectAsync("localhost", "127.0.0.1", 0, cancellationToken)
            ?? await milters.HeloAsync("localhost", cancellationToken)
            ?? await milters.MailAsync([$"<{sender}>"], cancellationToken);
        foreach (string recipient in recipients)
        {
            reply ??= await milters.RcptAsync([$"<{recipient}>"], cancellationToken);
        }
        reply ??= await milters.DataAsync(cancellationToken);
        return reply is null or ['H', ..] ? await cleanup.EndAsync(reply is null ? null : new SavedActions(Hold: true), milters, cancellationToken)
            : reply[0] == 'D' ? new CleanupResult(CleanupOutcome.Discarded)
            : new CleanupResult(CleanupOutcome.Rejected, Reply: reply);
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

/// <summary>A local submission's DSN requests: ENVID (xtext), RET, and NOTIFY for every recipient.</summary>
internal sealed record LocalDsn(string EnvId, DsnReturn Ret, DsnNotify Notify);

/// <summary>Cleanup refused a message for good (a 5XX of a milter or the checks, too big, a loop): the message, not the queue, is at fault.</summary>
internal sealed class MessageRejectedException(string message) : IOException(message);
