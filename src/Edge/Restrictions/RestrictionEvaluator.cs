using System.Text;
using Edge.Resolve;
using Edge.Restrictions.Policy;
using Edge.Tables;

namespace Edge.Restrictions;

/// <summary>Whom a restriction's reply names: "&lt;name&gt;: Class rejected: text".</summary>
internal enum Subject : byte
{
    Client,
    Helo,
    Sender,
    Recipient,
    /// <summary>smtpd_data_restrictions: "&lt;DATA&gt;: Data command rejected".</summary>
    Data,
    /// <summary>smtpd_end_of_data_restrictions: "&lt;END-OF-MESSAGE&gt;: End-of-data rejected".</summary>
    EndOfData,
    /// <summary>smtpd_etrn_restrictions: "&lt;domain&gt;: Etrn command rejected".</summary>
    Etrn,
}

/// <summary>
/// Evaluates restriction lists as Postfix's smtpd_check does: in each list the first restriction that
/// permits or rejects decides that list; a permit lets the next list run, a reject or defer ends the check.
/// </summary>
internal static class RestrictionEvaluator
{
    /// <summary>
    /// At RCPT TO: smtpd_client_restrictions, smtpd_helo_restrictions and smtpd_sender_restrictions (delayed
    /// to this point, as smtpd_delay_reject = yes does; with no, they were checked at their own commands), then
    /// smtpd_relay_restrictions and smtpd_recipient_restrictions.
    /// </summary>
    /// <param name="withSender">False for VRFY outside a mail transaction: there is no sender to check, as in Postfix.</param>
    /// <param name="carried">With smtpd_delay_reject = no, a DEFER_IF_PERMIT the earlier stages left pending.</param>
    public static Decision CheckRecipient(RestrictionSettings s, scoped in CheckContext c, bool withSender = true, string? carried = null)
    {
        // As Postfix's smtpd_check_rcpt(): RFC 2821 section 3.6 wants "postmaster" without a domain accepted, whatever the lists say.
        if (Ascii.EqualsIgnoreCase(c.Recipient, "postmaster"u8))
        {
            return Decision.Dunno.Final();
        }
        Decision d = new(Outcome.Dunno, Deferral: carried);
        if (s.DelayReject)
        {
            d = d.Then(Evaluate(s, s.Client, Subject.Client, c, 0));
            d = Decided(d) ? d : d.NextStage().Then(Evaluate(s, s.Helo, Subject.Helo, c, 0));
            d = Decided(d) || !withSender ? d : d.NextStage().Then(SenderChecks(s, c));
        }
        d = Decided(d) ? d : d.NextStage().Then(Evaluate(s, s.Relay, Subject.Recipient, c, 0));
        d = Decided(d) ? d : d.Then(Evaluate(s, s.Recipient, Subject.Recipient, c, 0));
        // smtpd_reject_unlisted_recipient: even a permit does not take mail for a user nobody has.
        d = Decided(d) || !s.RejectUnlistedRecipient ? d : d.Then(Evaluate(s, UnlistedRecipientStep, Subject.Recipient, c, 0));
        return d.Final();
    }

    /// <summary>
    /// With smtpd_delay_reject = no, at the connection: smtpd_client_restrictions. As at HELO and MAIL FROM, a
    /// DEFER_IF_PERMIT is not a reply here: it stays pending (<see cref="Decision.Deferral"/>) for RCPT TO and ETRN.
    /// </summary>
    public static Decision CheckClient(RestrictionSettings s, scoped in CheckContext c) =>
        Evaluate(s, s.Client, Subject.Client, c, 0);

    /// <summary>
    /// At ETRN: with smtpd_delay_reject = yes the client and helo restrictions first, as Postfix's smtpd_check_etrn(),
    /// then smtpd_etrn_restrictions.
    /// </summary>
    public static Decision CheckEtrn(RestrictionSettings s, scoped in CheckContext c, string? carried = null)
    {
        Decision d = new(Outcome.Dunno, Deferral: carried);
        if (s.DelayReject)
        {
            d = d.Then(Evaluate(s, s.Client, Subject.Client, c, 0));
            d = Decided(d) ? d : d.NextStage().Then(Evaluate(s, s.Helo, Subject.Helo, c, 0));
        }
        d = Decided(d) ? d : d.NextStage().Then(Evaluate(s, s.Etrn, Subject.Etrn, c, 0));
        return d.Final();
    }

    /// <summary>With smtpd_delay_reject = no, at HELO or EHLO: smtpd_helo_restrictions.</summary>
    public static Decision CheckHelo(RestrictionSettings s, scoped in CheckContext c) =>
        Evaluate(s, s.Helo, Subject.Helo, c, 0);

    /// <summary>With smtpd_delay_reject = no, at MAIL FROM: smtpd_sender_restrictions and smtpd_reject_unlisted_sender.</summary>
    public static Decision CheckSender(RestrictionSettings s, scoped in CheckContext c) => SenderChecks(s, c);

    private static Decision SenderChecks(RestrictionSettings s, scoped in CheckContext c)
    {
        Decision d = Evaluate(s, s.Sender, Subject.Sender, c, 0);
        return Decided(d) || !s.RejectUnlistedSender ? d : d.Then(Evaluate(s, UnlistedSenderStep, Subject.Sender, c, 0));
    }

    /// <summary>smtpd_reject_unlisted_sender and _recipient, checked as the restrictions they stand for.</summary>
    private static readonly RestrictionStep UnlistedSenderStep = new(Restriction.RejectUnlistedSender);
    private static readonly RestrictionStep UnlistedRecipientStep = new(Restriction.RejectUnlistedRecipient);

    private static Decision UnlistedSender(RestrictionSettings s, scoped in CheckContext c) => c.Sender.IsEmpty
        ? Decision.Dunno
        : Named(s.RecipientMaps.Check(c.Sender, c.Classifier.Classify(c.Sender), Subject.Sender, c), RestrictionLabel.UnlistedSender);

    private static Decision UnlistedRecipient(RestrictionSettings s, scoped in CheckContext c) => c.Recipient.IsEmpty
        ? Decision.Dunno
        : Named(s.RecipientMaps.Check(c.Recipient, c.RecipientClass, Subject.Recipient, c), RestrictionLabel.UnlistedRecipient);

    private static Decision Named(Decision d, RestrictionLabel label) => d.Outcome == Outcome.Reply ? d with { DecidedBy = label } : d;

    /// <summary>A reply, or a DNS answer to wait for, ends the check; a permit only ends its own list.</summary>
    private static bool Decided(Decision d) => d.Outcome is Outcome.Reply or Outcome.Lookup;

    /// <summary>
    /// At DATA (or the first BDAT): smtpd_data_restrictions. Recipient checks see the recipient only when the
    /// transaction has exactly one, as in Postfix.
    /// </summary>
    public static Decision CheckData(RestrictionSettings s, scoped in CheckContext c) =>
        Evaluate(s, s.Data, Subject.Data, c, 0).Final();

    /// <summary>At the end of the message: smtpd_end_of_data_restrictions, with the same view of the recipients.</summary>
    public static Decision CheckEndOfData(RestrictionSettings s, scoped in CheckContext c) =>
        Evaluate(s, s.EndOfData, Subject.EndOfData, c, 0).Final();

    internal static Decision Evaluate(RestrictionSettings s, RestrictionList list, Subject subject,
        scoped in CheckContext c, int depth)
    {
        Decision d = Decision.Dunno;
        foreach (RestrictionStep step in list.Steps)
        {
            d = d.Then(Evaluate(s, step, subject, c, depth));
            if (d.Outcome != Outcome.Dunno)
            {
                // The innermost step names it: a restriction class's, or an access table's result's, own restriction.
                return d.Outcome == Outcome.Reply && d.DecidedBy is null ? d with { DecidedBy = step.Label } : d;
            }
        }
        return d;
    }

    /// <summary>
    /// One restriction. A table it asks that cannot answer ends the check with Postfix's reply, never with a decision
    /// taken without the answer: an access table's failure is its result "451 4.3.5 Server configuration error"
    /// (Postfix's check_access()), another table's a temporary lookup failure (451 4.3.0, or 451 4.3.5 when the table
    /// says it is misconfigured). A remote table's answer not fetched yet is asked for (<see cref="Decision.TableLookup"/>).
    /// </summary>
    private static Decision Evaluate(RestrictionSettings s, RestrictionStep step, Subject subject,
        scoped in CheckContext c, int depth)
    {
        using TableAnswers.Scope scope = TableAnswers.Enter(c.Tables);
        try
        {
            return Check(s, step, subject, c, depth);
        }
        catch (LookupPendingException pending)
        {
            return Decision.NeedTable(pending);
        }
        catch (TableLookupException e)
        {
            (Subject looked, bool access) = LookupSubject(step.Kind, subject);
            return access ? AccessResult.Apply(s, step, looked, c, depth, "451 4.3.5 Server configuration error")
                : e.Configuration ? Decision.ServerConfigurationError : LookupFailure(looked, c);
        }
    }

    /// <summary>Postfix's reply when a table cannot answer: "451 4.3.0 &lt;name&gt;: Temporary lookup failure".</summary>
    internal static Decision LookupFailure(Subject subject, scoped in CheckContext c) =>
        Decision.Reject(451, "4.3.0", $"<{ReplyName(subject, c)}>: Temporary lookup failure");

    /// <summary>What a restriction looks up, whichever list it is in, and whether it is an access table check.</summary>
    private static (Subject Subject, bool Access) LookupSubject(Restriction kind, Subject list) => kind switch
    {
        Restriction.CheckClientAccess or Restriction.CheckClientNsAccess or Restriction.CheckClientMxAccess
            or Restriction.CheckClientAAccess => (Subject.Client, true),
        Restriction.CheckHeloAccess or Restriction.CheckHeloNsAccess or Restriction.CheckHeloMxAccess
            or Restriction.CheckHeloAAccess => (Subject.Helo, true),
        Restriction.CheckSenderAccess or Restriction.CheckSenderNsAccess or Restriction.CheckSenderMxAccess
            or Restriction.CheckSenderAAccess => (Subject.Sender, true),
        Restriction.CheckRecipientAccess or Restriction.CheckRecipientNsAccess or Restriction.CheckRecipientMxAccess
            or Restriction.CheckRecipientAAccess => (Subject.Recipient, true),
        Restriction.CheckEtrnAccess => (Subject.Etrn, true),
        Restriction.RejectUnlistedSender or Restriction.RejectAuthenticatedSenderLoginMismatch
            or Restriction.RejectUnauthenticatedSenderLoginMismatch or Restriction.RejectKnownSenderLoginMismatch
            or Restriction.RejectSenderLoginMismatch => (Subject.Sender, false),
        Restriction.RejectUnlistedRecipient => (Subject.Recipient, false),
        _ => (list, false),
    };

    private static Decision Check(RestrictionSettings s, RestrictionStep step, Subject subject,
        scoped in CheckContext c, int depth)
    {
        // permit_auth_destination and reject_unauth_destination: a routed address's destination is not ours to
        // vouch for, whatever its domain, unless allow_untrusted_routing says so.
        bool untrustedRoute = c.RecipientRouted && !s.AllowUntrustedRouting;
        bool authorizedDestination = c.RecipientClass != AddressClass.Default && !untrustedRoute;
        bool hasRecipient = !c.Recipient.IsEmpty;
        return step.Kind switch
        {
            Restriction.Permit => Decision.Permit,
            Restriction.Reject => Reject(s.RejectCode, "5.7.1", subject, c, "Access denied"),
            Restriction.Defer => Reject(s.DeferCode, "4.7.1", subject, c, "Access denied"),
            Restriction.PermitMynetworks when c.ClientInMynetworks => Decision.Permit,
            Restriction.PermitSaslAuthenticated when ClientPermits.SaslAuthenticated(c.Session) => Decision.Permit,
            Restriction.PermitTlsClientcerts or Restriction.PermitTlsAllClientcerts
                when ClientPermits.Certificate(c.Session, s.RelayClientCerts, all: step.Kind == Restriction.PermitTlsAllClientcerts) => Decision.Permit,
            Restriction.PermitAuthDestination when hasRecipient && authorizedDestination => Decision.Permit,
            Restriction.RejectUnauthDestination when hasRecipient && !authorizedDestination =>
                Decision.Reject(s.RelayRejectCode, "5.7.1", $"<{c.RecipientText}>: Relay access denied"),
            Restriction.DeferUnauthDestination when hasRecipient && !authorizedDestination =>
                Decision.Reject(s.RelayRejectCode - 100, "4.7.1", $"<{c.RecipientText}>: Relay access denied"),
            Restriction.CheckClientAccess => AccessResult.Apply(s, step, Subject.Client, c, depth,
                AccessLookup.Client(step.Table!, c.Client, s.ParentDomainMatchesSubdomains)),
            Restriction.CheckHeloAccess when c.Helo is not null => AccessResult.Apply(s, step, Subject.Helo, c, depth,
                AccessLookup.HostName(step.Table!, c.Helo, s.ParentDomainMatchesSubdomains)),
            Restriction.CheckSenderAccess => AccessResult.Apply(s, step, Subject.Sender, c, depth,
                AccessLookup.Address(step.Table!, c.SenderText, s.NullAccessKey, s.ParentDomainMatchesSubdomains, s.RecipientDelimiter)),
            Restriction.CheckRecipientAccess when hasRecipient => Suspicious(untrustedRoute, AccessResult.Apply(s, step, Subject.Recipient, c, depth,
                AccessLookup.Address(step.Table!, c.RecipientText, s.NullAccessKey, s.ParentDomainMatchesSubdomains, s.RecipientDelimiter))),
            Restriction.RejectInvalidHeloHostname when c.Helo is not null && !NameChecks.IsValidHelo(c.Helo) =>
                Reject(s.InvalidHostnameRejectCode, "5.5.2", Subject.Helo, c, "Invalid name"),
            Restriction.RejectNonFqdnHeloHostname when c.Helo is not null && !NameChecks.IsFullyQualifiedHelo(c.Helo) =>
                Reject(s.NonFqdnRejectCode, "5.5.2", Subject.Helo, c, "need fully-qualified hostname"),
            Restriction.RejectNonFqdnSender when !c.Sender.IsEmpty && !NameChecks.IsFullyQualifiedAddress(c.SenderText) =>
                Reject(s.NonFqdnRejectCode, "5.5.2", Subject.Sender, c, "need fully-qualified address"),
            Restriction.RejectNonFqdnRecipient when hasRecipient && !NameChecks.IsFullyQualifiedAddress(c.RecipientText) =>
                Reject(s.NonFqdnRejectCode, "5.5.2", Subject.Recipient, c, "need fully-qualified address"),
            Restriction.RejectUnknownSenderDomain when !c.Sender.IsEmpty && !IsFinalDestination(c.Classifier.Classify(c.Sender)) =>
                DnsRestrictions.UnknownDomain(s, Subject.Sender, c),
            Restriction.RejectUnknownRecipientDomain when hasRecipient && !IsFinalDestination(c.RecipientClass) =>
                DnsRestrictions.UnknownDomain(s, Subject.Recipient, c),
            Restriction.RejectRblClient or Restriction.PermitDnswlClient when c.Client.Ip is not null =>
                DnsRestrictions.Listed(s, step, c, step.List!.QueryFor(c.Client.Ip), "Client host", c.Client.Address),
            Restriction.RejectRhsblClient when c.Client.Name != "unknown" =>
                DnsRestrictions.Listed(s, step, c, step.List!.QueryFor(c.Client.Name), "Client host", c.Client.Name),
            Restriction.RejectRhsblHelo when c.Helo is not null && DnsRestrictions.DomainOf(c.Helo) is { } helo =>
                DnsRestrictions.Listed(s, step, c, step.List!.QueryFor(helo), "Helo command", helo),
            Restriction.RejectRhsblSender when DnsRestrictions.DomainOf(c.SenderText) is { } sender =>
                DnsRestrictions.Listed(s, step, c, step.List!.QueryFor(sender), "Sender address", c.SenderText),
            Restriction.RejectRhsblRecipient when hasRecipient && DnsRestrictions.DomainOf(c.RecipientText) is { } recipient =>
                DnsRestrictions.Listed(s, step, c, step.List!.QueryFor(recipient), "Recipient address", c.RecipientText),
            Restriction.RejectUnknownClientHostname when c.Client.Name == "unknown" && c.Client.Ip is not null =>
                UnknownClient(s, c, ""),
            Restriction.RejectUnknownReverseClientHostname when c.Client.ReverseName == "unknown" && c.Client.Ip is not null =>
                UnknownClient(s, c, "reverse "),
            Restriction.RejectUnlistedSender => UnlistedSender(s, c),
            Restriction.RejectUnlistedRecipient => UnlistedRecipient(s, c),
            Restriction.CheckPolicyScript or Restriction.CheckPolicyService => AskPolicy(s, step, subject, c, depth),
            Restriction.PermitMxBackup when hasRecipient => untrustedRoute ? Decision.Dunno : MxBackup.Check(s, c),
            Restriction.DeferIfPermit => Decision.Dunno with { Deferral = Reject(450, "4.7.0", subject, c, "defer_if_permit requested").Reply },
            Restriction.DeferIfReject => Decision.Dunno with { DeferIfReject = Reject(450, "4.7.0", subject, c, "defer_if_reject requested").Reply },
            Restriction.CheckListAccess => ListAccess(s, step, subject, c, depth),
            Restriction.RestrictionClass => Class(s, step, subject, c, depth),
            Restriction.CheckClientNsAccess or Restriction.CheckClientMxAccess or Restriction.CheckClientAAccess when c.Client.Name != "unknown" =>
                ServerAccess.Check(s, step, Subject.Client, c, depth, c.Client.Name),
            Restriction.CheckHeloNsAccess or Restriction.CheckHeloMxAccess or Restriction.CheckHeloAAccess when c.Helo is not null =>
                ServerAccess.Check(s, step, Subject.Helo, c, depth, c.Helo),
            Restriction.CheckSenderNsAccess or Restriction.CheckSenderMxAccess or Restriction.CheckSenderAAccess when !c.Sender.IsEmpty =>
                ServerAccess.Check(s, step, Subject.Sender, c, depth, c.SenderText),
            Restriction.CheckRecipientNsAccess or Restriction.CheckRecipientMxAccess or Restriction.CheckRecipientAAccess when hasRecipient =>
                ServerAccess.Check(s, step, Subject.Recipient, c, depth, c.RecipientText),
            Restriction.CheckEtrnAccess when c.EtrnDomain is not null => AccessResult.Apply(s, step, Subject.Etrn, c, depth,
                AccessLookup.HostName(step.Table!, c.EtrnDomain, s.ParentDomainMatchesSubdomains)),
            Restriction.RejectUnknownHeloHostname when c.Helo is not null => c.Helo.StartsWith('[')
                ? NameChecks.IsValidHelo(c.Helo) ? Decision.Dunno : Reject(s.InvalidHostnameRejectCode, "5.5.2", Subject.Helo, c, "invalid ip address")
                : DnsRestrictions.UnknownHostname(s, c),
            Restriction.RejectUnauthPipelining when c.Session is { ImproperPipelining: true } =>
                Reject(503, "5.5.0", subject, c, "Improper use of SMTP command pipelining"),
            Restriction.RejectMultiRecipientBounce when IsMultiRecipientBounce(subject, c) =>
                Reject(s.MultiRecipientBounceCode, "5.5.3", subject, c, "Multi-recipient bounce"),
            Restriction.RejectUnverifiedRecipient when hasRecipient && s.UnverifiedRecipient is { } unverified => unverified.Check(subject, c),
            Restriction.RejectUnverifiedSender when !c.Sender.IsEmpty && s.UnverifiedSender is { } unverified => unverified.Check(subject, c),
            Restriction.RejectAuthenticatedSenderLoginMismatch or Restriction.RejectUnauthenticatedSenderLoginMismatch
                or Restriction.RejectKnownSenderLoginMismatch or Restriction.RejectSenderLoginMismatch when !c.Sender.IsEmpty =>
                SenderLogin.Check(s, step.Kind, c),
            _ => Decision.Dunno,
        };
    }

    /// <summary>
    /// Postfix's test: the null sender, and a recipient already accepted before this RCPT TO (at DATA and later: more
    /// than one recipient).
    /// </summary>
    private static bool IsMultiRecipientBounce(Subject subject, scoped in CheckContext c) =>
        c.Session is { InTransaction: true } session && c.Sender.IsEmpty
        && session.RecipientCount > (subject is not (Subject.Data or Subject.EndOfData) && session.ProtocolState == "RCPT" ? 0 : 1);

    /// <summary>
    /// A bare type:table: the access check its list stands for, as Postfix's generic_checks() makes it. Data and
    /// end-of-data lists have none (start-up refuses one written there; from a class or an access table it is
    /// Postfix's warning and a server error).
    /// </summary>
    private static Decision ListAccess(RestrictionSettings s, RestrictionStep step, Subject subject, scoped in CheckContext c, int depth)
    {
        Restriction kind = subject switch
        {
            Subject.Client => Restriction.CheckClientAccess,
            Subject.Helo => Restriction.CheckHeloAccess,
            Subject.Sender => Restriction.CheckSenderAccess,
            Subject.Recipient => Restriction.CheckRecipientAccess,
            Subject.Etrn => Restriction.CheckEtrnAccess,
            _ => Restriction.CheckListAccess,
        };
        if (kind == Restriction.CheckListAccess)
        {
            Logging.MailLog.Warning("specify one of (check_client_access, check_reverse_client_access, check_helo_access, check_sender_access, " +
                $"check_recipient_access, check_etrn_access) before {(subject == Subject.Data ? "Data command" : "End-of-data")} restriction \"{step.TableName}\"");
            return Decision.ServerConfigurationError;
        }
        return Evaluate(s, step with { Kind = kind }, subject, c, depth);
    }

    /// <summary>A smtpd_restriction_classes class: its list in place, as deep as access tables may nest.</summary>
    private static Decision Class(RestrictionSettings s, RestrictionStep step, Subject subject, scoped in CheckContext c, int depth)
    {
        if (depth >= AccessResult.MaxDepth)
        {
            Logging.MailLog.Warning($"restriction class {step.TableName}: restrictions nested more than {AccessResult.MaxDepth} deep");
            return Decision.ServerConfigurationError;
        }
        return Evaluate(s, s.Classes[step.TableName!], subject, c, depth + 1);
    }

    /// <summary>An OK from check_recipient_access does not let a routed recipient through, as in Postfix (its SUSPICIOUS()).</summary>
    private static Decision Suspicious(bool untrustedRoute, Decision d) =>
        untrustedRoute && d.Outcome == Outcome.Permit ? d with { Outcome = Outcome.Dunno } : d;

    /// <summary>
    /// Postfix's reply to a client without a (confirmed) name; 450 whatever unknown_client_reject_code says when
    /// DNS did not answer, since the name may exist.
    /// </summary>
    private static Decision UnknownClient(RestrictionSettings s, scoped in CheckContext c, string which) =>
        Decision.Reject(c.Client.NameLookupFailed ? 450 : s.UnknownClientRejectCode, "4.7.25",
            $"Client host rejected: cannot find your {which}hostname, [{c.Client.Address}]");

    /// <summary>The policy's answer, as an access table's result; until it is there, the question to ask.</summary>
    private static Decision AskPolicy(RestrictionSettings s, RestrictionStep step, Subject subject, scoped in CheckContext c, int depth)
    {
        if (c.Answers is null || !c.Answers.TryGet(step.Policy!, subject, out string? action))
        {
            return Decision.NeedPolicy(new PolicyQuery(step.Policy!, PolicyRequest.Build(c, subject), subject));
        }
        return action is null ? Decision.ServerConfigurationError : AccessResult.Apply(s, step, subject, c, depth, action);
    }

    /// <summary>Local and virtual domains: Edge is their final destination (relay domains are not).</summary>
    private static bool IsFinalDestination(AddressClass addressClass) =>
        addressClass is AddressClass.Local or AddressClass.VirtualAlias or AddressClass.VirtualMailbox;

    /// <summary>Postfix's reply for a restriction that rejects: "554 5.7.1 &lt;name&gt;: Sender address rejected: text".</summary>
    internal static Decision Reject(int code, string dsn, Subject subject, scoped in CheckContext c, string text) =>
        Decision.Reject(code, dsn, $"<{ReplyName(subject, c)}>: {ReplyClass(subject)} rejected: {text}");

    /// <summary>What Postfix's replies call the subject: "Client host", "Sender address" …</summary>
    internal static string ReplyClass(Subject subject) => subject switch
    {
        Subject.Client => "Client host",
        Subject.Helo => "Helo command",
        Subject.Sender => "Sender address",
        Subject.Data => "Data command",
        Subject.EndOfData => "End-of-data",
        Subject.Etrn => "Etrn command",
        _ => "Recipient address",
    };

    /// <summary>The name in a reply's angle brackets: the client's name[address], the HELO name, an address …</summary>
    internal static string ReplyName(Subject subject, scoped in CheckContext c) => subject switch
    {
        Subject.Client => c.Client.NamAddr,
        Subject.Helo => c.Helo ?? "",
        Subject.Sender => c.SenderText,
        Subject.Data => "DATA",
        Subject.EndOfData => "END-OF-MESSAGE",
        Subject.Etrn => c.EtrnDomain ?? "",
        _ => c.RecipientText,
    };
}
