using Edge.Mail;
using Edge.Queue;

namespace Edge.Delivery.Smtp;

/// <summary>
/// One message to deliver to one destination. <see cref="CopyContentAsync"/> writes the stored message:
/// CRLF lines, not dot-stuffed. <see cref="EnvId"/> and each recipient's ORCPT are as the queue holds them,
/// which is xtext as the client sent them.
/// </summary>
internal sealed record DeliveryRequest(
    QueueId Id,
    string Sender,
    IReadOnlyList<QueuedRecipient> Recipients,
    long Size,
    BodyType Body,
    bool SmtpUtf8,
    DsnReturn Ret,
    string EnvId,
    Func<Stream, CancellationToken, Task> CopyContentAsync)
{
    /// <summary>An address verification probe: the transaction ends after RCPT TO, whose replies decide.</summary>
    public bool VerifyOnly { get; init; }
}
