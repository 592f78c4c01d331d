using Edge.Mail;
using Edge.Queue;

namespace Edge.Delivery;

/// <summary>
/// One delivery attempt: the recipients of one message that go to the same transport and next hop.
/// <see cref="Recipients"/> are indexes into the message's recipient list. <see cref="ForwardAsync"/> queues
/// a copy of the message, from the same sender with a header line put in front, for new recipients (local
/// alias expansion), and returns the copy's queue ID.
/// </summary>
internal sealed record DeliveryJob(QueuedMessage Message, IReadOnlyList<int> Recipients, string Nexthop,
    Func<Stream, CancellationToken, Task> CopyContentAsync,
    Func<IReadOnlyList<string>, string, CancellationToken, Task<QueueId>> ForwardAsync);

/// <summary>What became of one recipient: the status, its DSN code, the reply or reason, and who said it.</summary>
internal sealed record DeliveryResult(int Recipient, DeliveryStatus Status, string Dsn, string Reason, string Relay)
{
    /// <summary>The agent that decided, for the log line's program name.</summary>
    public string Service { get; set; } = "qmgr";

    /// <summary>
    /// For a delivery, the DSN action a NOTIFY=SUCCESS notice reports: "delivered" as Postfix's agents say
    /// by default, "relayed" when the mail went on to a next hop that took no notify request (or a pipe
    /// command without the X flag); null when the next hop took the request over.
    /// </summary>
    public string? SuccessAction { get; init; } = "delivered";

    /// <summary>The agent local(8) handed the recipient to (mailbox_transport, fallback_transport), which logs the delivery.</summary>
    public string? PassedTo { get; init; }
}

/// <summary>A delivery agent behind a master.cf transport (smtp, lmtp, discard, error …).</summary>
internal interface ITransport
{
    /// <summary>The program name in log lines (edge/smtp, edge/discard …).</summary>
    string Service { get; }

    Task<IReadOnlyList<DeliveryResult>> DeliverAsync(DeliveryJob job, CancellationToken cancellationToken);

    /// <summary>
    /// An address verification probe (verify(8)): what delivering to the job's recipients would do, without delivering
    /// and without the content. An agent that has no one to ask answers that it would deliver, as Postfix's virtual
    /// and pipe agents answer a probe.
    /// </summary>
    Task<IReadOnlyList<DeliveryResult>> VerifyAsync(DeliveryJob job, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DeliveryResult>>([.. job.Recipients.Select(r =>
            new DeliveryResult(r, DeliveryStatus.Sent, "2.0.0", $"delivers to {Service}", "none"))]);
}
