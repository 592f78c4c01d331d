using System.Text;
using Edge.Logging;
using Edge.Net;
using Edge.Resolve;
using Edge.Restrictions;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Session;

/// <summary>
/// ETRN (RFC 1985) as Postfix's etrn_cmd(): the domain (or address literal) passes smtpd_etrn_restrictions (with
/// smtpd_delay_reject = yes the client and helo restrictions first), then its deferred mail is flushed, which
/// fast_flush_domains must allow: "250 Queuing started", or 459 for a site it does not hold, 458 when no queue
/// manager runs.
/// </summary>
internal sealed partial class SmtpSession
{
    /// <summary>Starts the flush of a site: false when fast_flush_domains does not hold it, null when no queue manager runs.</summary>
    private readonly Func<string, bool?>? _etrn;

    private bool Etrn(ReadOnlySpan<byte> argument, ref Step step)
    {
        if (_s.HeloRequired && _helo is null)
        {
            return Fail("503 Error: send HELO/EHLO first"u8);
        }
        if (_envelope.Active)
        {
            return Fail("503 Error: MAIL transaction in progress"u8);
        }
        argument = argument.Trim(" \t"u8);
        if (argument.IsEmpty || argument.IndexOfAny(" \t"u8) >= 0)
        {
            return Fail("500 Syntax: ETRN domain"u8);
        }
        if (argument[0] is (byte)'@' or (byte)'#')
        {
            argument = argument[1..];
        }
        string domain = Printable.Text(argument);
        if (!HostName.IsValid(domain) && !NameChecks.IsAddressLiteral(domain))
        {
            return Fail("501 Error: invalid parameter syntax"u8);
        }
        _earlyState = "ETRN";
        Decision decision = CheckEtrn(domain);
        if (decision.Outcome == Outcome.Lookup)
        {
            return AwaitChecks(decision, () => CheckEtrn(domain), d => FinishEtrn(d, domain), SmtpVerb.Etrn, ref step);
        }
        _earlyState = null;
        return FinishEtrn(decision, domain);
    }

    private Decision CheckEtrn(string domain) =>
        RestrictionEvaluator.CheckEtrn(_s.Restrictions, new CheckContext(_peer, _clientInMynetworks, _helo, default, default,
            new Resolution(AddressClass.Default, false), _dnsChecks, _s.Classifier, _policyAnswers, this, domain, _tableAnswers),
            carried: _deferClient ?? _deferHelo);

    private bool FinishEtrn(Decision decision, string domain)
    {
        ForgetAnswers();
        if (decision.Outcome == Outcome.Reply)
        {
            LogReject("ETRN", decision.Reply!, null, by: decision.DecidedBy);
            Reply.Line(Encoding.UTF8.GetBytes(decision.Reply!));
            return false;
        }
        switch (_etrn?.Invoke(domain))
        {
            case true:
                Reply.Line("250 Queuing started"u8);
                return true;
            case false:
                MailLog.Warning($"reject: ETRN {domain}... from {_peer.NamAddr}");
                Reply.Line(Encoding.UTF8.GetBytes($"459 <{domain}>: service unavailable"));
                return false;
            default:
                MailLog.Warning("unable to talk to fast flush service");
                Reply.Line("458 Unable to queue messages"u8);
                return false;
        }
    }
}
