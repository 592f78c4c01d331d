using Edge.Delivery.Smtp;
using Edge.Queue;

namespace Edge.Delivery;

/// <summary>The smtp and lmtp transports: find the next hop's servers, then let the SMTP client deliver.</summary>
internal sealed class SmtpTransport(SmtpDeliveryAgent agent, SmtpClientOptions options, NextHopFinder finder) : ITransport
{
    public string Service => options.Lmtp ? "lmtp" : "smtp";

    public Task<IReadOnlyList<DeliveryResult>> DeliverAsync(DeliveryJob job, CancellationToken cancellationToken) =>
        RunAsync(job, verifyOnly: false, cancellationToken);

    /// <summary>A probe: the next hop's servers are found and asked as for mail, up to their replies to RCPT TO.</summary>
    public Task<IReadOnlyList<DeliveryResult>> VerifyAsync(DeliveryJob job, CancellationToken cancellationToken) =>
        RunAsync(job, verifyOnly: true, cancellationToken);

    private async Task<IReadOnlyList<DeliveryResult>> RunAsync(DeliveryJob job, bool verifyOnly, CancellationToken cancellationToken)
    {
        if (options.Generic?.Failure is { } genericFailure)
        {
            // Postfix's smtp(8) stops on a generic table it cannot read; the mail waits rather than leave unmapped.
            return [.. job.Recipients.Select(r => new DeliveryResult(r, DeliveryStatus.Deferred, "4.3.0", genericFailure, "none"))];
        }
        QueuedMessage m = job.Message;
        var recipients = job.Recipients.Select(r => m.Recipients[r]).ToList();
        if (options.Generic?.EnvelopeProblem(m.Sender, recipients.Select(r => r.Address)) is { } envelopeProblem)
        {
            return [.. job.Recipients.Select(r => new DeliveryResult(r, DeliveryStatus.Deferred, "4.3.0", envelopeProblem, "none"))];
        }
        var (servers, failure) = await finder.FindAsync(job.Nexthop, options.Lmtp ? 24 : 25, options.MxAddressLimit, cancellationToken);
        if (failure is not null)
        {
            DeliveryStatus status = failure.Permanent ? DeliveryStatus.Bounced : DeliveryStatus.Deferred;
            return [.. job.Recipients.Select(r => new DeliveryResult(r, status, failure.Dsn, failure.Reason, "none"))];
        }
        var request = new DeliveryRequest(m.Id, m.Sender, recipients, m.Size, m.Body, m.SmtpUtf8, m.Ret, m.EnvId, job.CopyContentAsync)
        {
            VerifyOnly = verifyOnly,
        };
        IReadOnlyList<RecipientOutcome> outcomes = await agent.DeliverAsync(request, servers, options, cancellationToken);
        var results = new List<DeliveryResult>(outcomes.Count);
        foreach (RecipientOutcome outcome in outcomes)
        {
            int index = job.Recipients[recipients.FindIndex(r => ReferenceEquals(r, outcome.Recipient))];
            DeliveryStatus status = outcome.Status switch
            {
                RecipientStatus.Sent => DeliveryStatus.Sent,
                RecipientStatus.Bounced => DeliveryStatus.Bounced,
                _ => DeliveryStatus.Deferred,
            };
            results.Add(new DeliveryResult(index, status, outcome.Dsn, outcome.Reply, outcome.Relay)
            {
                // An LMTP server is the final destination; an SMTP one that took NOTIFY reports success itself.
                SuccessAction = outcome.DsnPassedOn ? null : options.Lmtp ? "delivered" : "relayed",
            });
        }
        return results;
    }
}
