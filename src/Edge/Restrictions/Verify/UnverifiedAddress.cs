using Edge.Restrictions.Policy;

namespace Edge.Restrictions.Verify;

/// <summary>
/// reject_unverified_recipient or reject_unverified_sender as one listener has them: the question put to the server's
/// address verifier (asked like a policy, so that the session waits for it without holding a thread), how long it
/// waits (address_verify_poll_count and _poll_delay), and the unverified_*_reject_code, _defer_code, _reject_reason
/// and _tempfail_action that shape the reply.
/// </summary>
internal sealed class UnverifiedAddress(AddressVerifier verifier, Subject whom, int rejectCode, int deferCode, string reason,
    bool tempfailDefers, int pollCount, TimeSpan pollDelay) : IPolicy
{
    private const string ServiceFailure = "failure";

    public string Name => whom == Subject.Sender ? "reject_unverified_sender" : "reject_unverified_recipient";

    /// <summary>The verifier's answer as "status text"; the status "failure" when there is none (Postfix's verify service failure).</summary>
    public async Task<string?> AskAsync(PolicyRequest request, CancellationToken cancellationToken)
    {
        try
        {
            return await verifier.VerifyAsync(whom == Subject.Sender ? request.Sender : request.Recipient, pollCount, pollDelay, cancellationToken)
                is { } outcome ? $"{outcome.Status} {outcome.Text}" : ServiceFailure;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Logging.MailLog.Warning($"address verification failed: {e.Message}", "smtpd");
            return ServiceFailure;
        }
    }

    /// <summary>
    /// reject_unverified_address(): nothing for a good address; for one still unknown or failing temporarily,
    /// unverified_*_defer_code (450) as a DEFER_IF_PERMIT unless the tempfail action says defer; for one that bounced,
    /// unverified_*_reject_code; the question, when the list of <paramref name="subject"/> has not asked it yet.
    /// </summary>
    public Decision Check(Subject subject, scoped in CheckContext c)
    {
        if (c.Answers is null || !c.Answers.TryGet(this, subject, out string? answer) || answer is null)
        {
            return Decision.NeedPolicy(new PolicyQuery(this, PolicyRequest.Build(c, subject), subject));
        }
        string dsn = whom == Subject.Sender ? "4.1.7" : "4.1.1";
        if (answer == ServiceFailure)
        {
            Logging.MailLog.Warning("verify service failure");
            return Tempfail(RestrictionEvaluator.Reject(450, dsn, whom, c, "address verification problem"));
        }
        int space = answer.IndexOf(' ');
        var status = Enum.Parse<VerifyStatus>(answer.AsSpan(0, space));
        string why = answer[(space + 1)..];
        int code = status switch
        {
            VerifyStatus.Ok => 0,
            VerifyStatus.Bounce => rejectCode,
            _ => deferCode,
        };
        if (code >= 400 && reason.Length > 0)
        {
            why = reason;
        }
        return (code / 100) switch
        {
            0 or 2 => Decision.Dunno,
            4 => Tempfail(RestrictionEvaluator.Reject(code, dsn, whom, c, $"unverified address: {(why.Length > 250 ? why[..250] : why)}")),
            _ => RestrictionEvaluator.Reject(code, dsn, whom, c, $"undeliverable address: {why}"),
        };
    }

    /// <summary>DEFER_IF_PERMIT, or the reply itself when the tempfail action is "defer".</summary>
    private Decision Tempfail(Decision reply) => tempfailDefers ? reply : Decision.Dunno with { Deferral = reply.Reply };
}
