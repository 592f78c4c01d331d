namespace Edge.Delivery.Smtp;

/// <summary>
/// The time limit of the conversation stage in progress (smtp_mail_timeout, smtp_rcpt_timeout …), as one
/// token that also carries the caller's cancellation. One per use of a connection: once it has fired, the
/// connection is given up.
/// </summary>
internal sealed class StageDeadline(CancellationToken caller) : IDisposable
{
    private readonly CancellationTokenSource _source = CancellationTokenSource.CreateLinkedTokenSource(caller);

    public CancellationToken Token => _source.Token;

    /// <summary>Whether the stage ran out of time (and not the caller out of patience).</summary>
    public bool Expired => _source.IsCancellationRequested && !caller.IsCancellationRequested;

    /// <summary>Starts a stage: the limit counts from now; zero means no limit.</summary>
    public void Start(TimeSpan limit) => _source.CancelAfter(limit > TimeSpan.Zero ? limit : Timeout.InfiniteTimeSpan);

    public void Dispose() => _source.Dispose();
}
