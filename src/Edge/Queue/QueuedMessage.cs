using Edge.Mail;

namespace Edge.Queue;

internal sealed record QueuedRecipient(string Address, string Orcpt, DsnNotify Notify)
{
    /// <summary>The address the client gave, as its ORCPT records it ("rfc822;addr"), or the recipient itself when it has none.</summary>
    public string Original => Orcpt.StartsWith("rfc822;", StringComparison.OrdinalIgnoreCase) && Orcpt.Length > 7 ? Orcpt[7..] : Address;
}

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
