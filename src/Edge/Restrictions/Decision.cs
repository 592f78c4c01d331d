using Edge.Mail;
using Edge.Restrictions.Policy;
using Edge.Tables;

namespace Edge.Restrictions;

internal enum Outcome : byte
{
    /// <summary>Nothing decided: the list goes on (Postfix's DUNNO); a list that ends so accepts.</summary>
    Dunno,
    /// <summary>The list accepts; the lists after it still run.</summary>
    Permit,
    /// <summary>A reject or defer: its <see cref="Decision.Reply"/> goes to the client.</summary>
    Reply,
    /// <summary>
    /// A restriction needs the DNS answer to <see cref="Decision.Lookup"/>, the policy's answer to
    /// <see cref="Decision.Policy"/>, or a remote table's answer (<see cref="Decision.TableLookup"/>) first; evaluate
    /// again once it is there.
    /// </summary>
    Lookup,
}

/// <summary>
/// What a restriction, or a whole list, decided; a reply is the SMTP line without its CRLF. A decision that lets
/// the check go on may carry notes for its end: <see cref="Deferral"/>, the reply of a DEFER_IF_PERMIT that
/// applies unless something rejects, <see cref="DeferIfReject"/>, the reply of a DEFER_IF_REJECT that takes the
/// place of a later permanent reject, <see cref="Prepend"/>, header lines (CRLF-ended) that a PREPEND
/// action puts in front of the message, and <see cref="Saved"/>, the HOLD, DISCARD, REDIRECT and BCC actions for the
/// end of the data. A reply says which restriction gave it (<see cref="DecidedBy"/>), for the metrics.
/// </summary>
internal readonly record struct Decision(Outcome Outcome, string? Reply = null, DnsCheck Lookup = default, PolicyQuery? Policy = null,
    string? Deferral = null, string? Prepend = null, string? DeferIfReject = null, SavedActions? Saved = null,
    RestrictionLabel? DecidedBy = null, LookupPendingException? TableLookup = null)
{
    public static Decision Dunno => default;
    public static Decision Permit => new(Outcome.Permit);

    /// <summary>
    /// A reply in Postfix's form; the enhanced status code's class follows the reply code's, as Postfix's
    /// smtpd_check_reject() makes it ("DEFER 5.7.1 text" still says 4.7.1).
    /// </summary>
    public static Decision Reject(int code, string dsn, string text) =>
        new(Outcome.Reply, $"{code} {(char)('0' + code / 100)}{dsn[1..]} {text}");

    public static Decision NeedLookup(DnsCheck check) => new(Outcome.Lookup, Lookup: check);

    public static Decision NeedPolicy(PolicyQuery query) => new(Outcome.Lookup, Policy: query);

    public static Decision NeedTable(LookupPendingException pending) => new(Outcome.Lookup, TableLookup: pending);

    /// <summary>
    /// The next decision, carrying this one's notes along: the first deferral, every header; a permanent reject
    /// after a DEFER_IF_REJECT becomes its temporary reply, as in Postfix.
    /// </summary>
    public Decision Then(Decision next)
    {
        if (DeferIfReject is not null && next.Outcome == Outcome.Reply && next.Reply![0] == '5')
        {
            next = next with { Reply = DeferIfReject };
        }
        return Deferral is null && Prepend is null && DeferIfReject is null && Saved is null ? next
            : next with
            {
                Deferral = Deferral ?? next.Deferral, Prepend = Prepend + next.Prepend,
                DeferIfReject = DeferIfReject ?? next.DeferIfReject, Saved = SavedActions.Merge(Saved, next.Saved),
            };
    }

    /// <summary>
    /// Into the next stage (client, helo, sender, then the relay and recipient lists together): a DEFER_IF_REJECT
    /// stays in its own, as Postfix's SMTPD_CHECK_RESET() ends it at each smtpd_check_*(); a DEFER_IF_PERMIT goes on.
    /// </summary>
    public Decision NextStage() => DeferIfReject is null ? this : this with { DeferIfReject = null };

    /// <summary>The decision at the end of a check: a pending deferral becomes the reply when nothing rejected.</summary>
    public Decision Final() => Outcome is Outcome.Dunno or Outcome.Permit && Deferral is not null
        ? new Decision(Outcome.Reply, Deferral)
        : this;

    /// <summary>451 4.3.5: a table result or setting Edge cannot carry out; the mail is deferred, not lost.</summary>
    public static Decision ServerConfigurationError => new(Outcome.Reply, "451 4.3.5 Server configuration error");
}
