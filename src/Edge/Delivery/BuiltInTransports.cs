using Edge.Mail;
using Edge.Queue;

namespace Edge.Delivery;

/// <summary>discard(8): the message is accepted and dropped, logged as sent.</summary>
internal sealed class DiscardTransport : ITransport
{
    public string Service => "discard";

    public Task<IReadOnlyList<DeliveryResult>> DeliverAsync(DeliveryJob job, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DeliveryResult>>(job.Recipients
            .Select(r => new DeliveryResult(r, DeliveryStatus.Sent, "2.0.0", job.Nexthop.Length > 0 ? job.Nexthop : "discarded", "none"))
            .ToList());

    /// <summary>Discarding has no effect to avoid: a probe is answered as the delivery.</summary>
    public Task<IReadOnlyList<DeliveryResult>> VerifyAsync(DeliveryJob job, CancellationToken cancellationToken) => DeliverAsync(job, cancellationToken);
}

/// <summary>error(8): every recipient bounces with the next hop as the reason ("error:5.1.1 no such user").</summary>
internal sealed class ErrorTransport : ITransport
{
    public string Service => "error";

    public Task<IReadOnlyList<DeliveryResult>> DeliverAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        (string dsn, string text) = SplitDsn(job.Nexthop, "5.0.0");
        return Task.FromResult<IReadOnlyList<DeliveryResult>>(job.Recipients
            .Select(r => new DeliveryResult(r, dsn[0] == '4' ? DeliveryStatus.Deferred : DeliveryStatus.Bounced, dsn, text, "none"))
            .ToList());
    }

    /// <summary>Refusing has no effect to avoid: a probe is answered as the delivery.</summary>
    public Task<IReadOnlyList<DeliveryResult>> VerifyAsync(DeliveryJob job, CancellationToken cancellationToken) => DeliverAsync(job, cancellationToken);

    /// <summary>A reason may start with an enhanced status code ("5.1.1 text"); otherwise <paramref name="fallback"/>.</summary>
    internal static (string Dsn, string Text) SplitDsn(string reason, string fallback)
    {
        int space = reason.IndexOf(' ');
        string first = space < 0 ? reason : reason[..space];
        bool isDsn = EnhancedStatus.IsCode(first);
        return isDsn ? (first, space < 0 ? "" : reason[(space + 1)..]) : (fallback, reason.Length > 0 ? reason : "mail transport unavailable");
    }
}

/// <summary>A transport Edge does not run (yet), or one that master.cf lacks: recipients wait, with the reason.</summary>
internal sealed class UnavailableTransport(string service, string reason) : ITransport
{
    public string Service => service;

    public Task<IReadOnlyList<DeliveryResult>> DeliverAsync(DeliveryJob job, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DeliveryResult>>(job.Recipients
            .Select(r => new DeliveryResult(r, DeliveryStatus.Deferred, "4.3.0", reason, "none"))
            .ToList());

    /// <summary>A probe waits as the mail would.</summary>
    public Task<IReadOnlyList<DeliveryResult>> VerifyAsync(DeliveryJob job, CancellationToken cancellationToken) => DeliverAsync(job, cancellationToken);
}
