using System.Diagnostics;
using System.Text;
using Edge.Logging;
using Edge.Mail;
using Edge.Metrics;
using Edge.Resolve;
using Edge.Restrictions;
using Edge.Restrictions.Policy;
using Edge.Smtp.Data;
using Edge.Smtp.Protocol;
using Edge.Tables;

namespace Edge.Smtp.Session;

/// <summary>
/// The restriction lists at RCPT TO and DATA. A check that needs DNS (an RBL, an unknown domain) or a policy
/// script's answer parks the RCPT command: the session loop fetches the answer (<see cref="Step.Lookup"/>) and
/// evaluates the lists again.
/// </summary>
internal sealed partial class SmtpSession
{
    private DnsChecks? _dnsChecks;
    private PolicyAnswers? _policyAnswers;

    /// <summary>The remote tables' answers fetched for the command being checked.</summary>
    private readonly TableAnswers _tableAnswers = new();

    /// <summary>A command's checks are done: the next command asks its policies and remote tables afresh.</summary>
    private void ForgetAnswers()
    {
        _policyAnswers?.Clear();
        _tableAnswers.Clear();
    }
    private Decision _pendingLookup;
    private PendingRecipient? _pendingRecipient;

    /// <summary>Header lines PREPEND actions gave this transaction's accepted recipients (and DATA), CRLF-ended.</summary>
    private string? _prepend;

    /// <summary>The HOLD, DISCARD, REDIRECT and BCC actions of the restrictions, for cleanup at the end of the data.</summary>
    private SavedActions? _saved;

    /// <summary>
    /// With smtpd_delay_reject = no, the DEFER_IF_PERMIT replies the client, helo and sender restrictions left pending:
    /// Postfix carries them (defer_if_permit_client, _helo, _sender) to RCPT TO and ETRN, where they defer what is
    /// not rejected. The earliest one's reply is the one given.
    /// </summary>
    private string? _deferClient;
    private string? _deferHelo;
    private string? _deferSender;

    /// <summary>Headers PREPEND actions of smtpd_end_of_data_restrictions put at the top of the message.</summary>
    private string? _endOfDataPrepend;

    /// <summary>While smtpd_end_of_data_restrictions are checked: policies are told the message's real size, and scripts see it.</summary>
    private bool _atEndOfData;
    private MessageView? _message;

    /// <summary>With smtpd_delay_reject = no: the connection's rejection, which refuses every later command but QUIT.</summary>
    private string? _accessDenied;

    /// <summary>The command an early check (smtpd_delay_reject = no) runs at, for policies' protocol_state; null at RCPT.</summary>
    private string? _earlyState;

    /// <summary>What HELO/EHLO or MAIL FROM gives, checked before the session takes it.</summary>
    private string? _candidateHelo;
    private byte[] _candidateSender = [];

    /// <summary>A RCPT TO waiting for an answer: copied, since the command line's buffer moves on.</summary>
    /// <param name="Resolution">Null while a domain table has still to answer for it.</param>
    private sealed record PendingRecipient(byte[] Address, byte[] Orcpt, DsnNotify Notify, Resolution? Resolution)
    {
        /// <summary>What a PREPEND action of the recipient's restrictions adds, once the recipient is accepted.</summary>
        public string? Prepend { get; init; }
    }

    /// <summary>Whether this transaction's headers are rewritten in the local context (local_header_rewrite_clients, at MAIL FROM).</summary>
    private bool _localHeaders;

    /// <summary>MAIL FROM waits (as for the filters) for the answers of a local_header_rewrite_clients table a server answers.</summary>
    private bool HeaderRewriteWaits => !_filtersPassed && _s.HeaderRewriteClients.IsRemote(_s.Restrictions.RelayClientCerts);

    private bool IsLocalClient() => _s.HeaderRewriteClients.IsLocal(this, _peer.Ip, _clientInMynetworks, _s.Restrictions.RelayClientCerts);

    /// <summary>Decides <see cref="_localHeaders"/>; the reply to MAIL FROM when a table cannot answer, as Postfix's.</summary>
    private string? LocalHeaders()
    {
        using TableAnswers.Scope scope = TableAnswers.Use(_tableAnswers);
        try
        {
            _localHeaders = IsLocalClient();
            return null;
        }
        catch (TableLookupException e)
        {
            return e.Configuration ? "451 4.3.5 Server configuration error" : "451 4.3.0 Temporary lookup error";
        }
        finally
        {
            _tableAnswers.Clear();
        }
    }

    /// <summary>
    /// The recipient's address class, as trivial-rewrite resolves it: null when known. A domain list a server answers
    /// (mydestination or relay_domains in a database) that has not answered yet gives the decision to fetch its answer
    /// (<see cref="Step.Lookup"/>); one that cannot answer, Postfix's reply when trivial-rewrite cannot resolve an address.
    /// </summary>
    private Decision? Resolve(ReadOnlySpan<byte> address, out Resolution resolution)
    {
        resolution = default;
        using TableAnswers.Scope scope = TableAnswers.Enter(_tableAnswers);
        try
        {
            resolution = _s.Classifier.Resolve(address);
            return null;
        }
        catch (LookupPendingException pending)
        {
            return Decision.NeedTable(pending);
        }
        catch (TableLookupException)
        {
            return Decision.Reject(451, "4.3.0", $"<{Printable.Text(address)}>: Temporary lookup failure");
        }
    }

    private Decision CheckRecipient(ReadOnlySpan<byte> address, Resolution resolution) =>
        RestrictionEvaluator.CheckRecipient(_s.Restrictions, new CheckContext(_peer, _clientInMynetworks, _helo,
            _envelope[_envelope.Sender], address, resolution, _dnsChecks, _s.Classifier, _policyAnswers, this, tables: _tableAnswers),
            carried: _deferClient ?? _deferHelo ?? _deferSender);

    private bool FinishRcpt(Decision decision, ReadOnlySpan<byte> address, ReadOnlySpan<byte> orcpt, DsnNotify notify, ref Step step)
    {
        ForgetAnswers();
        // As Postfix's smtpd: HOLD, DISCARD, REDIRECT and BCC stay with the transaction even if the recipient is refused.
        _saved = SavedActions.Merge(_saved, decision.Saved);
        if (decision.Outcome == Outcome.Reply)
        {
            LogReject("RCPT", decision.Reply!, Printable.Text(address), by: decision.DecidedBy);
            if (MilterWanted && _milters is { WantsRejectedRecipients: true } milters)
            {
                // As Postfix's smtpd_milter.c: "554 5.7.1 <a@b>: Relay access denied" gives {rcpt_host} 5.7.1 and {rcpt_addr} "Relay access denied".
                string[] words = decision.Reply![4..].Split(' ', 3);
                milters.Macros["{rcpt_mailer}"] = "error";
                milters.Macros["{rcpt_host}"] = words[0];
                milters.Macros["{rcpt_addr}"] = words.Length > 2 ? words[2] : "";
                _filterRefusal = decision.Reply;
                ParkForFilters(FilterStage.RejectedRcpt, default, RcptArguments(address, orcpt), ref step);
                return true;
            }
            Reply.Line(Encoding.UTF8.GetBytes(decision.Reply!));
            return false;
        }
        var recipient = new PendingRecipient(address.ToArray(), orcpt.ToArray(), notify, default) { Prepend = decision.Prepend };
        if (FiltersWanted)
        {
            _filterRecipient = recipient;
            if (_milters is { } milters)
            {
                milters.Macros["{rcpt_addr}"] = Encoding.UTF8.GetString(address);
                milters.Macros.Remove("{rcpt_host}");
                milters.Macros.Remove("{rcpt_mailer}");
            }
            return ParkForFilters(FilterStage.Rcpt, default, RcptArguments(address, orcpt), ref step);
        }
        return AddRecipient(recipient);
    }

    /// <summary>RCPT TO's arguments as the mail filters get them: "&lt;address&gt;", then ORCPT if the client gave one.</summary>
    private static string[] RcptArguments(ReadOnlySpan<byte> address, ReadOnlySpan<byte> orcpt)
    {
        string text = $"<{Encoding.UTF8.GetString(address)}>";
        return orcpt.IsEmpty ? [text] : [text, $"ORCPT={Encoding.UTF8.GetString(orcpt)}"];
    }

    /// <summary>An accepted recipient joins the envelope; the first one gives the message its queue ID.</summary>
    private bool AddRecipient(PendingRecipient recipient)
    {
        if (_envelope.RecipientCount == 0)
        {
            _envelope.Id = QueueId.New();
            MailLog.Info($"{_envelope.Id}: client={_peer.NamAddr}{SaslLogFields}");
            _milters?.Macros["i"] = _envelope.Id.ToString();
        }
        _envelope.AddRecipient(recipient.Address, recipient.Orcpt, recipient.Notify);
        if (recipient.Prepend is not null)
        {
            _prepend += recipient.Prepend;
        }
        Reply.Line(Replies.RcptOk);
        return true;
    }

    private void AwaitLookup(Decision lookup, ReadOnlySpan<byte> address, ReadOnlySpan<byte> orcpt, DsnNotify notify,
        Resolution? resolution)
    {
        _pendingLookup = lookup;
        _pendingRecipient = new PendingRecipient(address.ToArray(), orcpt.ToArray(), notify, resolution);
    }

    /// <summary>Fetches what the parked RCPT TO asked for; the server's own wait, so no client deadline runs.</summary>
    private async Task FetchLookupAsync()
    {
        if (_pendingLookup.TableLookup is { } table)
        {
            await _tableAnswers.FetchAsync(table, _hardStop);
            return;
        }
        if (_pendingLookup.Policy is { } query)
        {
            _policyAnswers ??= new PolicyAnswers();
            long started = Stopwatch.GetTimestamp();
            string? answer = await query.Policy.AskAsync(query.Request, _hardStop);
            var policy = EdgeMetrics.Tag("policy", query.Policy.Name);
            EdgeMetrics.PolicyDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, policy);
            EdgeMetrics.PolicyDecisions.Add(1, policy, EdgeMetrics.Tag("action", PolicyActionName.Of(answer)));
            _policyAnswers.Add(query, answer);
            return;
        }
        _dnsChecks ??= new DnsChecks(_s.Restrictions.Dns);
        await _dnsChecks.FetchAsync(_pendingLookup.Lookup, _hardStop);
    }

    /// <summary>VRFY or ETRN waiting for DNS or policy answers: what finishes it once they are there.</summary>
    private Func<Task>? _awaited;

    /// <summary>
    /// Parks VRFY or ETRN (<see cref="Step.Await"/>): the session loop fetches what <paramref name="pending"/> asks for
    /// and checks again until the check decides, then <paramref name="finish"/> replies (true when the command succeeded).
    /// </summary>
    private bool AwaitChecks(Decision pending, Func<Decision> check, Func<Decision, bool> finish, SmtpVerb verb, ref Step step)
    {
        _pendingLookup = pending;
        _awaited = async () =>
        {
            Decision decision;
            do
            {
                await FetchLookupAsync();
                decision = check();
                _pendingLookup = decision;
            }
            while (decision.Outcome == Outcome.Lookup);
            _pendingLookup = default;
            _earlyState = null;
            if (finish(decision))
            {
                _stats.Succeeded(verb);
            }
            else
            {
                _errors++;
            }
        };
        step = Step.Await;
        return true;
    }

    /// <summary>Evaluates the parked RCPT TO again; false when it needs one more DNS answer first.</summary>
    private bool ResumeRcpt()
    {
        PendingRecipient pending = _pendingRecipient!;
        Decision decision;
        if (pending.Resolution is { } resolved)
        {
            decision = CheckRecipient(pending.Address, resolved);
        }
        else if (Resolve(pending.Address, out Resolution resolution) is { } unresolved)
        {
            decision = unresolved;
        }
        else
        {
            _pendingRecipient = pending with { Resolution = resolution };
            decision = CheckRecipient(pending.Address, resolution);
        }
        if (decision.Outcome == Outcome.Lookup)
        {
            _pendingLookup = decision;
            return false;
        }
        _pendingLookup = default;
        _pendingRecipient = null;
        Step step = Step.NeedInput;
        if (!FinishRcpt(decision, pending.Address, pending.Orcpt, pending.Notify, ref step))
        {
            _errors++;
        }
        else if (step != Step.Filters)
        {
            _stats.Succeeded(SmtpVerb.Rcpt);
        }
        return true;
    }

    /// <summary>
    /// The restriction list checked at a command of its own: with smtpd_delay_reject = no, smtpd_client_restrictions at
    /// the connection, smtpd_helo_restrictions at HELO or EHLO (for <see cref="_candidateHelo"/>) and
    /// smtpd_sender_restrictions at MAIL FROM (for <see cref="_candidateSender"/>); smtpd_data_restrictions at DATA or the
    /// first BDAT, smtpd_end_of_data_restrictions at the end of the message. The reply if the list rejects, logged as
    /// Postfix does; null otherwise, with <paramref name="asking"/> set when a policy or DNS must answer first (the
    /// command waits for it: <see cref="AskPoliciesAsync"/>).
    /// </summary>
    private string? CheckStage(Subject subject, string command, out bool asking)
    {
        asking = false;
        RestrictionSettings r = _s.Restrictions;
        // Each run of a stage starts its own DEFER_IF_PERMIT afresh (a second HELO, the next MAIL FROM).
        _ = subject switch
        {
            Subject.Client => _deferClient = null,
            Subject.Helo => _deferHelo = null,
            Subject.Sender => _deferSender = null,
            _ => null,
        };
        RestrictionList list = subject switch
        {
            Subject.Client => r.Client,
            Subject.Helo => r.Helo,
            Subject.Sender => r.Sender,
            Subject.Data => r.Data,
            _ => r.EndOfData,
        };
        if (list.IsEmpty && !(subject == Subject.Sender && r.RejectUnlistedSender))
        {
            return null;
        }
        bool afterRecipients = subject is Subject.Data or Subject.EndOfData;
        ReadOnlySpan<byte> recipient = afterRecipients && _envelope.RecipientCount == 1 ? _envelope[_envelope.Recipients[0].Address] : default;
        ReadOnlySpan<byte> sender = subject == Subject.Sender ? _candidateSender : _envelope[_envelope.Sender];
        string? helo = subject == Subject.Helo ? _candidateHelo : _helo;
        var resolution = new Resolution(AddressClass.Default, false);
        if (!recipient.IsEmpty && Resolve(recipient, out resolution) is { } unresolved)
        {
            if (unresolved.Outcome == Outcome.Lookup)
            {
                _pendingLookup = unresolved;
                asking = true;
                return null;
            }
            // The recipient's address class cannot be known now: the stage is refused for now.
            ForgetAnswers();
            LogReject(command, unresolved.Reply!, Printable.Text(recipient), null, helo, null);
            return unresolved.Reply;
        }
        var context = new CheckContext(_peer, _clientInMynetworks, helo, sender, recipient, resolution, _dnsChecks,
            _s.Classifier, _policyAnswers, this, tables: _tableAnswers);
        Decision decision = subject switch
        {
            Subject.Client => RestrictionEvaluator.CheckClient(r, context),
            Subject.Helo => RestrictionEvaluator.CheckHelo(r, context),
            Subject.Sender => RestrictionEvaluator.CheckSender(r, context),
            Subject.Data => RestrictionEvaluator.CheckData(r, context),
            _ => RestrictionEvaluator.CheckEndOfData(r, context),
        };
        if (decision.Outcome == Outcome.Lookup && (decision.Policy is not null || decision.TableLookup is not null || !afterRecipients))
        {
            _pendingLookup = decision;
            asking = true;
            return null;
        }
        ForgetAnswers();
        if (decision.Outcome == Outcome.Lookup)
        {
            // Only an access table's result can bring a DNS check here (start-up refuses them in the list itself).
            MailLog.Warning($"{command}: a DNS check ({decision.Lookup.Name}) reached from an access table is not supported there");
            decision = Decision.ServerConfigurationError;
        }
        _saved = SavedActions.Merge(_saved, decision.Saved);
        if (decision.Outcome != Outcome.Reply)
        {
            _ = subject switch
            {
                Subject.Client => _deferClient = decision.Deferral,
                Subject.Helo => _deferHelo = decision.Deferral,
                Subject.Sender => _deferSender = decision.Deferral,
                _ => null,
            };
            if (decision.Prepend is not null && subject == Subject.EndOfData)
            {
                _endOfDataPrepend += decision.Prepend;
            }
            else if (decision.Prepend is not null)
            {
                _prepend += decision.Prepend;
            }
            return null;
        }
        LogReject(command, decision.Reply!, recipient.IsEmpty ? null : Printable.Text(recipient),
            subject == Subject.Sender ? Printable.Text(sender) : null, helo, decision.DecidedBy);
        return decision.Reply;
    }

    /// <summary>
    /// smtpd_delay_reject = no: smtpd_client_restrictions when the client connects, before the greeting. A rejection is
    /// the greeting's place, and every later command but QUIT gets 503 (Postfix's access_denied); null when they pass.
    /// </summary>
    private async Task<string?> ClientRejectionAsync()
    {
        if (_s.Restrictions.DelayReject || _s.Restrictions.Client.IsEmpty)
        {
            return null;
        }
        _earlyState = "CONNECT";
        string? rejection = CheckStage(Subject.Client, "CONNECT", out bool asking);
        if (asking)
        {
            rejection = await AskPoliciesAsync(Subject.Client, "CONNECT");
        }
        _earlyState = null;
        return rejection;
    }

    /// <summary>
    /// smtpd_delay_reject = no, at HELO/EHLO or MAIL FROM (not when the command runs again after its wait): the list's
    /// rejection, or null with <paramref name="asking"/> set when the command must wait for a policy or DNS.
    /// </summary>
    private string? EarlyRejection(Subject subject, string command, out bool asking)
    {
        asking = false;
        if (_s.Restrictions.DelayReject || _filtersPassed)
        {
            return null;
        }
        _earlyState = command;
        string? rejection = CheckStage(subject, command, out asking);
        if (!asking)
        {
            _earlyState = null;
        }
        return rejection;
    }

    /// <summary>The policies the list asks, one after another, then the list's reply (null when it passes).</summary>
    private async Task<string?> AskPoliciesAsync(Subject subject, string command)
    {
        while (true)
        {
            await FetchLookupAsync();
            string? rejection = CheckStage(subject, command, out bool asking);
            if (!asking)
            {
                _pendingLookup = default;
                return rejection;
            }
        }
    }

    /// <summary>
    /// smtpd_end_of_data_restrictions, before cleanup and the mail filters finish the message, as Postfix's smtpd checks
    /// them before it flushes the message: policy scripts are shown the message (<see cref="MessageView"/>), PREPEND
    /// puts headers at its top, HOLD, DISCARD, REDIRECT, BCC and FILTER go with it to cleanup. True when they refused it
    /// (the reply is written).
    /// </summary>
    private async Task<bool> RefusedAtEndOfDataAsync()
    {
        if (_scanner.SawBareLf && _bareMode == BareNewlineMode.Reject)
        {
            return false;
        }
        _mode = Mode.Command;
        _atEndOfData = true;
        try
        {
            if (_s.Restrictions.EndOfDataShowsMessage)
            {
                var recipients = new string[_envelope.RecipientCount];
                for (int i = 0; i < recipients.Length; i++)
                {
                    recipients[i] = Printable.Text(_envelope[_envelope.Recipients[i].Address]);
                }
                _message = MessageView.Parse(await _cleanup.ContentAsArrayAsync(_hardStop), recipients, _s.Restrictions.PolicyBodyLimit);
            }
            string? rejection = CheckStage(Subject.EndOfData, "END-OF-MESSAGE", out bool asking);
            if (asking)
            {
                rejection = await AskPoliciesAsync(Subject.EndOfData, "END-OF-MESSAGE");
            }
            if (rejection is not null)
            {
                Reply.Line(System.Text.Encoding.UTF8.GetBytes(rejection));
                _errors++;
                return true;
            }
            if (_endOfDataPrepend is { } headers)
            {
                await _cleanup.PrependAsync(headers, _hardStop);
            }
            return false;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Refused(_cleanup.WriteFailed(e));
            return true;
        }
        finally
        {
            _atEndOfData = false;
            _message = null;
            _endOfDataPrepend = null;
        }
    }
}
