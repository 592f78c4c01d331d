using Edge.Mail;

namespace Edge.Queue;

internal sealed record QueuedRecipient(string Address, string Orcpt, DsnNotify Notify);

internal readonly record struct ContentChunk(long Address, int Length);

/// <summary>A message as the queue holds it: its envelope, and where its content lies in the log.</summary>
internal sealed record QueuedMessage(
    QueueId Id,
    long Size,
    string ClientName,
    string ClientAddress,
    string Helo,
    string Protocol,
    string Sender,
    string EnvId,
    DsnReturn Ret,
    BodyType Body,
    bool SmtpUtf8,
    IReadOnlyList<QueuedRecipient> Recipients,
    IReadOnlyList<ContentChunk> Chunks);
