using Edge.Mail;

namespace Edge.Queue;

/// <summary>What the queue manager knows of one queued message besides its envelope record.</summary>
internal sealed class QueueEntry
{
    public QueueEntry(QueueId id, long envelopeAddress, int recipientCount, ReadOnlySpan<ContentChunk> chunks)
    {
        Id = id;
        Done = new bool[recipientCount];
        Reasons = new string?[recipientCount];
        Relocate(envelopeAddress, chunks);
    }

    public QueueId Id { get; }

    /// <summary>The log address of the message's first record: the log before it may go once nothing older is queued.</summary>
    public long FirstAddress { get; private set; }

    public long EnvelopeAddress { get; private set; }

    /// <summary>The content's size in the log: what copying the message forward costs.</summary>
    public long ContentBytes { get; private set; }

    /// <summary>Per recipient: delivered or bounced for good (a status record says so).</summary>
    public bool[] Done { get; }

    /// <summary>Per recipient: why the last attempt was deferred, for postqueue -p.</summary>
    public string?[] Reasons { get; }

    public DateTimeOffset NextAttempt { get; set; } = DateTimeOffset.MinValue;

    public int Attempts { get; set; }

    /// <summary>On hold (postsuper -h): not delivered until released; postqueue -p marks it '!'.</summary>
    public bool Hold { get; set; }

    /// <summary>The content filter (transport:destination) every recipient is delivered to, or null.</summary>
    public string? Filter { get; init; }

    /// <summary>The sender was sent the delay warning (delay_warning_time).</summary>
    public bool Warned { get; set; }

    /// <summary>postqueue -f or -s asked for it: its next attempt also runs the transports in defer_transports.</summary>
    public bool Flushed { get; set; }

    /// <summary>Its removal record is written; it leaves the queue once that is on disk.</summary>
    public bool Removing { get; set; }

    /// <summary>Being delivered now (postqueue -p marks it '*').</summary>
    public bool Active { get; set; }

    public bool AllDone => Array.TrueForAll(Done, d => d);

    /// <summary>The Postfix queue the message would be in, for postqueue -j and postsuper's queue names.</summary>
    public string QueueName => Active ? "active" : Hold ? "hold" : Attempts > 0 ? "deferred" : "incoming";

    /// <summary>The message now lives at these addresses (it was queued, or copied forward in the log).</summary>
    public void Relocate(long envelopeAddress, ReadOnlySpan<ContentChunk> chunks)
    {
        long bytes = 0;
        long first = envelopeAddress;
        foreach (ContentChunk chunk in chunks)
        {
            bytes += chunk.Length;
            first = Math.Min(first, chunk.Address);
        }
        ContentBytes = bytes;
        FirstAddress = first;
        EnvelopeAddress = envelopeAddress;
    }
}
