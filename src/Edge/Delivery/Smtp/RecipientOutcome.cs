using Edge.Queue;

namespace Edge.Delivery.Smtp;

/// <summary>
/// What became of one recipient, as Postfix logs it. <see cref="Relay"/> is "host[addr]:port", or "none" when
/// no server could be reached. <see cref="Reply"/> is the server's reply ("250 2.0.0 Ok: queued as …"), a
/// refusal as "host h[a] said: … (in reply to RCPT TO command)", or Postfix's local reason
/// ("connect to h[a]:25: Connection refused", "lost connection with h[a] while sending RCPT TO", …).
/// <see cref="DsnPassedOn"/>: the server announced DSN, so NOTIFY went on with the message.
/// </summary>
internal sealed record RecipientOutcome(QueuedRecipient Recipient, RecipientStatus Status, string Dsn, string Reply, string Relay,
    bool DsnPassedOn = false);
