using Edge.Resolve;

namespace Edge.Restrictions;

internal enum Verdict : byte
{
    /// <summary>No restriction decided (Postfix's DUNNO at the end of a list): accept.</summary>
    Dunno,
    Permit,
    Reject,
    Defer,
    /// <summary>reject_unauth_destination: relay_domains_reject_code 5.7.1 Relay access denied.</summary>
    RelayDenied,
    /// <summary>defer_unauth_destination: relay_domains_reject_code - 100, 4.7.1 Relay access denied.</summary>
    RelayDeferred,
}

/// <summary>
/// Evaluates the RCPT-stage lists, smtpd_relay_restrictions and then smtpd_recipient_restrictions: the first
/// permit or reject in a list decides that list, and both lists must not reject.
/// </summary>
internal static class RecipientDecision
{
    public static Verdict Evaluate(RestrictionList relay, RestrictionList recipient, bool clientInMynetworks,
        AddressClass addressClass)
    {
        Verdict first = EvaluateList(relay, clientInMynetworks, addressClass);
        if (first is not (Verdict.Permit or Verdict.Dunno))
        {
            return first;
        }
        Verdict second = EvaluateList(recipient, clientInMynetworks, addressClass);
        return second is Verdict.Permit or Verdict.Dunno ? Verdict.Permit : second;
    }

    private static Verdict EvaluateList(RestrictionList list, bool clientInMynetworks, AddressClass addressClass)
    {
        bool authorizedDestination = addressClass != AddressClass.Default;
        foreach (Restriction step in list.Steps)
        {
            switch (step)
            {
                case Restriction.Permit:
                    return Verdict.Permit;
                case Restriction.Reject:
                    return Verdict.Reject;
                case Restriction.Defer:
                    return Verdict.Defer;
                case Restriction.PermitMynetworks when clientInMynetworks:
                    return Verdict.Permit;
                case Restriction.PermitAuthDestination when authorizedDestination:
                    return Verdict.Permit;
                case Restriction.RejectUnauthDestination when !authorizedDestination:
                    return Verdict.RelayDenied;
                case Restriction.DeferUnauthDestination when !authorizedDestination:
                    return Verdict.RelayDeferred;
            }
        }
        return Verdict.Dunno;
    }
}
