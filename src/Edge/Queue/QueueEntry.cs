namespace Edge.Queue;

/// <summary>What the queue manager knows of one queued message besides its envelope record.</summary>
internal sealed class QueueEntry(QueueId id, long envelopeAddress, int recipientCount, long firstAddress)
{
    /// <summary>The log address of the message's first record: the log before it may go once nothing older is queued.</summary>
    public long FirstAddress { get; } = firstAddress;

    public QueueId Id { get; } = id;

    public long EnvelopeAddress { get; } = envelopeAddress;

    /// <summary>Per recipient: delivered or bounced for good (a status record says so).</summary>
    public bool[] Done { get; } = new bool[recipientCount];

    /// <summary>Per recipient: why the last attempt was deferred, for postqueue -p.</summary>
    public string?[] Reasons { get; } = new string?[recipientCount];

    public DateTimeOffset NextAttempt { get; set; } = DateTimeOffset.MinValue;

    public int Attempts { get; set; }

    /// <summary>On hold (postsuper -h): not delivered until released; postqueue -p marks it '!'.</summary>
    public bool Hold { get; set; }

    /// <summary>The sender was sent the delay warning (delay_warning_time).</summary>
    public bool Warned { get; set; }

    /// <summary>postqueue -f or -s asked for it: its next attempt also runs the transports in defer_transports.</summary>
    public bool Flushed { get; set; }

    /// <summary>Being delivered now (postqueue -p marks it '*').</summary>
    public bool Active { get; set; }

    public bool AllDone => Array.TrueForAll(Done, d => d);
}
