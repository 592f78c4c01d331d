using System.Text;
using Edge.Logging;
using Edge.Resolve;
using Edge.Restrictions;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Session;

/// <summary>
/// VRFY as Postfix's vrfy_cmd(): the address goes through the recipient checks of RCPT TO (with smtpd_delay_reject = yes
/// the client and helo restrictions first, the sender's only inside a mail transaction), so a user nobody has gets
/// "550 5.1.1 … User unknown" and an outside domain "554 5.7.1 … Relay access denied". What passes gets 252: the
/// address may be deliverable, which is all a restriction can say.
/// </summary>
internal sealed partial class SmtpSession
{
    private bool Vrfy(ReadOnlySpan<byte> argument, ref Step step)
    {
        if (_s.DisableVrfy)
        {
            return Fail(Replies.VrfyDisabled);
        }
        if (argument.IsEmpty)
        {
            return Fail(_s.SmtpUtf8Enabled ? Replies.VrfySyntaxUtf8 : Replies.VrfySyntax);
        }
        if (!PathParser.TryParse(argument, strict: false, _s.SmtpUtf8Enabled, out Range range, out _) || argument[range].IsEmpty)
        {
            return Fail(Replies.BadRecipient);
        }
        ReadOnlySpan<byte> address = argument[range];
        _earlyState = "VRFY";
        Decision decision = CheckVrfy(address);
        if (decision.Outcome == Outcome.Lookup)
        {
            byte[] pending = address.ToArray();
            byte[] echo = argument.ToArray();
            return AwaitChecks(decision, () => CheckVrfy(pending), d => FinishVrfy(d, pending, echo), SmtpVerb.Vrfy, ref step);
        }
        _earlyState = null;
        return FinishVrfy(decision, address, argument);
    }

    /// <summary>The recipient checks, after the address's class (<see cref="Resolve"/>) is known.</summary>
    private Decision CheckVrfy(ReadOnlySpan<byte> address) =>
        Resolve(address, out Resolution resolution) ?? RestrictionEvaluator.CheckRecipient(_s.Restrictions, new CheckContext(_peer, _clientInMynetworks, _helo,
            _envelope[_envelope.Sender], address, resolution, _dnsChecks, _s.Classifier, _policyAnswers, this, tables: _tableAnswers), withSender: _envelope.Active);

    /// <summary>The refusal (logged as Postfix logs a VRFY reject), or 252 with the address as the client wrote it.</summary>
    private bool FinishVrfy(Decision decision, ReadOnlySpan<byte> address, ReadOnlySpan<byte> echo)
    {
        ForgetAnswers();
        if (decision.Outcome == Outcome.Reply)
        {
            LogReject("VRFY", decision.Reply!, Printable.Text(address), by: decision.DecidedBy);
            Reply.Line(Encoding.UTF8.GetBytes(decision.Reply!));
            return false;
        }
        Reply.Write("252 2.0.0 "u8);
        Reply.Line(echo);
        return true;
    }
}
