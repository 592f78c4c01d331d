using Edge.Cleanup;
using Edge.Delivery;
using Edge.Mail;
using Edge.Queue;

namespace Edge.Scheduler;

/// <summary>
/// sendmail -bv: each recipient goes the way a verification probe goes (rewriting, aliases, routing, the agent's
/// answer), nothing is delivered, and the sender gets a "Mail Delivery Status Report" saying what delivery would do,
/// as Postfix's verify-only requests end in a report from its trace service.
/// </summary>
internal sealed partial class QueueManager
{
    public async Task<QueueId> ReportAsync(MaildropFile request, CancellationToken cancellationToken)
    {
        QueueManagerSettings settings = _settings;
        var lines = new List<BounceMessage.Failure>(request.Recipients.Count);
        foreach (string address in request.Recipients)
        {
            DeliveryResult result = await ProbeAsync(request.Sender, address, cancellationToken);
            bool deliverable = result.Status == DeliveryStatus.Sent;
            lines.Add(new BounceMessage.Failure(new QueuedRecipient(address, "", DsnNotify.Unspecified), result.Dsn, result.Reason, result.Relay,
                deliverable ? "deliverable" : "undeliverable"));
        }
        var message = new QueuedMessage(QueueId.New(), request.Content.Length, "localhost", "127.0.0.1", "", "local", request.Sender,
            request.EnvId, DsnReturn.Headers, BodyType.Unspecified, false, [.. lines.Select(l => l.Recipient)], []);
        return await _local.SubmitAsync(settings.Internal.Bounce, "", [request.Sender],
            (output, token) => BounceMessage.WriteAsync(output, message, lines, settings.MyHostname,
                (original, t) => original.WriteAsync(request.Content, t).AsTask(), token, settings.Bounce.SizeLimit),
            cancellationToken);
    }
}
