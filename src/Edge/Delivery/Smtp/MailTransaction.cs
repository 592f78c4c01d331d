namespace Edge.Delivery.Smtp;

/// <summary>
/// MAIL FROM, RCPT TO, DATA, the content and the final reply(ies) on a session that a server took. A
/// recipient is decided at RCPT when refused there (4xx deferred, 5xx bounced); the accepted ones get the
/// reply to the end of data (LMTP: one reply each). A conversation that breaks defers whoever is left.
/// </summary>
internal sealed class MailTransaction
{
    private readonly SmtpClientSession _session;
    private readonly DeliveryRequest _request;
    private readonly SmtpClientOptions _options;
    private readonly RecipientResults _results;
    private readonly StageDeadline _stage;
    private readonly NextHopServer _server;
    private string _step = FailureText.Mail;
    private bool _closing;

    /// <summary>For a probe, the replies of the recipients accepted at RCPT TO: their answer.</summary>
    private SmtpReply[]? _acceptedReplies;

    private MailTransaction(SmtpClientSession session, DeliveryRequest request, SmtpClientOptions options,
        RecipientResults results, StageDeadline stage)
    {
        _session = session;
        _request = request;
        _options = options;
        _results = results;
        _stage = stage;
        _server = session.Server;
    }

    /// <summary>
    /// Runs the transaction and decides every recipient. Returns whether the connection is still in step with
    /// the server, so that it may carry another transaction. Only the caller's cancellation throws.
    /// </summary>
    public static async Task<bool> RunAsync(SmtpClientSession session, DeliveryRequest request, SmtpClientOptions options,
        RecipientResults results, CancellationToken cancellationToken)
    {
        NextHopServer server = session.Server;
        EhloFeatures features = session.Features;
        // Refusals that need no command, checked as Postfix checks them right after EHLO.
        if (features.SizeLimit > 0 && request.Size > features.SizeLimit)
        {
            results.DecideRemaining(RecipientStatus.Bounced, "5.3.4",
                $"message size {request.Size} exceeds size limit {features.SizeLimit} of server {server.NameAddr}", server.Relay);
            return true;
        }
        if (!features.SmtpUtf8 && EnvelopeCommands.NeedsSmtpUtf8(request))
        {
            results.DecideRemaining(RecipientStatus.Bounced, "5.6.7",
                $"SMTPUTF8 is required, but was not offered by host {server.NameAddr}", server.Relay);
            return true;
        }

        using var stage = new StageDeadline(cancellationToken);
        var transaction = new MailTransaction(session, request, options, results, stage);
        try
        {
            return await transaction.RunAsync();
        }
        catch (Exception e) when (SmtpClientSession.IsTransportFailure(e) && !cancellationToken.IsCancellationRequested)
        {
            string reason = stage.Expired ? FailureText.TimedOut(server, transaction._step) : FailureText.LostConnection(server, transaction._step);
            results.DecideRemaining(RecipientStatus.Deferred, "4.4.2", reason, server.Relay);
            return false;
        }
    }

    private async Task<bool> RunAsync()
    {
        bool accepted = _session.Features.Pipelining ? await PipelinedEnvelopeAsync() : await LockstepEnvelopeAsync();
        if (_request.VerifyOnly)
        {
            // A probe ends here, as Postfix's smtp(8) ends one: the reply to RCPT TO is the answer, and the open
            // transaction is reset by the RSET that precedes reuse, or ends with QUIT.
            foreach (int index in _results.Accepted)
            {
                _results.Decide(index, RecipientStatus.Sent, _acceptedReplies![index].Dsn, _acceptedReplies[index].Text, _server.Relay);
            }
            return !_closing;
        }
        return accepted ? await SendContentAsync() : !_closing;
    }

    /// <summary>MAIL, every RCPT and DATA in one write, then their replies in order. Returns whether DATA got 354.</summary>
    private async Task<bool> PipelinedEnvelopeAsync()
    {
        _session.Queue(EnvelopeCommands.Mail(_request, _session.Features, _options.Generic));
        foreach (var recipient in _request.Recipients)
        {
            _session.Queue(EnvelopeCommands.Rcpt(recipient, _session.Features, _options.Generic));
        }
        if (!_request.VerifyOnly)
        {
            _session.Queue("DATA");
        }
        _stage.Start(_options.MailTimeout);
        // Replies are read while the group is still being written: a long group against a server that
        // answers as it reads would otherwise fill both directions' buffers and stall.
        Task write = _session.FlushAsync(_stage.Token).AsTask();
        SmtpReply data;
        try
        {
            SmtpReply mail = await ReadAsync(_options.MailTimeout);
            MailReply(mail);
            _step = FailureText.Rcpt;
            for (int i = 0; i < _request.Recipients.Count; i++)
            {
                SmtpReply rcpt = await ReadAsync(_options.RcptTimeout);
                if (mail.IsPositive)
                {
                    RcptReply(i, rcpt);
                }
            }
            if (_request.VerifyOnly)
            {
                await write;
                return false;
            }
            _step = FailureText.Data;
            data = await ReadAsync(_options.DataInitTimeout);
        }
        catch
        {
            // The read failed: stop the write too, and let it finish before the buffer it uses goes back to the pool.
            _session.Abort();
            try
            {
                await write;
            }
            catch (Exception e) when (SmtpClientSession.IsTransportFailure(e))
            {
                // Failed by the abort, or for the same reason as the read; the read's exception tells.
            }
            throw;
        }
        await write;
        return await DataReplyAsync(data);
    }

    /// <summary>One command, one reply, without PIPELINING. Returns whether DATA got 354.</summary>
    private async Task<bool> LockstepEnvelopeAsync()
    {
        _stage.Start(_options.MailTimeout);
        SmtpReply mail = await _session.CommandAsync(EnvelopeCommands.Mail(_request, _session.Features, _options.Generic), _stage.Token);
        MailReply(mail);
        if (!mail.IsPositive)
        {
            return false;
        }
        _step = FailureText.Rcpt;
        for (int i = 0; i < _request.Recipients.Count && !_closing; i++)
        {
            _stage.Start(_options.RcptTimeout);
            RcptReply(i, await _session.CommandAsync(EnvelopeCommands.Rcpt(_request.Recipients[i], _session.Features, _options.Generic), _stage.Token));
        }
        if (_results.Accepted.Count == 0 || _closing || _request.VerifyOnly)
        {
            // Nothing to send: the open transaction is reset by the RSET that precedes reuse, or ends with QUIT.
            return false;
        }
        _step = FailureText.Data;
        _stage.Start(_options.DataInitTimeout);
        return await DataReplyAsync(await _session.CommandAsync("DATA", _stage.Token));
    }

    private void MailReply(SmtpReply mail)
    {
        _closing |= mail.IsClosing;
        if (!mail.IsPositive)
        {
            Refuse(mail, FailureText.MailCommand);
        }
    }

    private void RcptReply(int index, SmtpReply rcpt)
    {
        if (rcpt.IsPositive)
        {
            _results.Accept(index);
            if (_request.VerifyOnly)
            {
                (_acceptedReplies ??= new SmtpReply[_request.Recipients.Count])[index] = rcpt;
            }
            return;
        }
        _results.Decide(index, Refusal(rcpt), rcpt.Dsn, FailureText.Said(_server, rcpt, FailureText.RcptCommand), _server.Relay);
        if (rcpt.IsClosing)
        {
            // 421: the server is going away; what it did not answer yet gets the same reason.
            _closing = true;
            Refuse(rcpt, FailureText.RcptCommand);
        }
    }

    /// <summary>Whether to send the content after the reply to DATA.</summary>
    private async Task<bool> DataReplyAsync(SmtpReply data)
    {
        _closing |= data.IsClosing;
        if (!data.IsIntermediate || _closing)
        {
            Refuse(data, FailureText.DataCommand);
            return false;
        }
        if (_results.Accepted.Count > 0)
        {
            return true;
        }
        // 354 with no recipient accepted (a pipelined DATA the server should have refused): end the empty
        // message at once, as Postfix does, and ignore the reply.
        _step = FailureText.EndOfData;
        _session.Queue(".");
        _stage.Start(_options.DataDoneTimeout);
        await _session.FlushAsync(_stage.Token);
        _closing |= (await ReadAsync(_options.DataDoneTimeout)).IsClosing;
        return false;
    }

    private async Task<bool> SendContentAsync()
    {
        _step = FailureText.Body;
        using (var content = new DotStuffingStream(_session.Stream, _stage, _options.DataXferTimeout))
        using (InspectingStream? inspecting = _options.ContentChecks is { } checks
                   ? new InspectingStream(content, checks, _options.HeaderRules, _request.Id, _options.Generic) : null)
        {
            try
            {
                _stage.Start(_options.DataXferTimeout);
                await _request.CopyContentAsync(inspecting ?? (Stream)content, _stage.Token);
                if (inspecting is not null)
                {
                    await inspecting.CompleteAsync(_stage.Token);
                }
                await content.CompleteAsync(_stage.Token);
            }
            catch (Exception e) when (!content.TransportFailed && !_stage.Token.IsCancellationRequested)
            {
                // The queue could not give the content, or a generic table could not map a header. The connection
                // is dropped without the final dot, so that the server discards the part it got instead of
                // delivering a truncated message.
                string reason = e is GenericMapException ? e.Message : $"error reading message content: {e.Message}";
                _results.DecideRemaining(RecipientStatus.Deferred, "4.3.0", reason, _server.Relay);
                return false;
            }
        }
        _step = FailureText.EndOfData;
        if (_options.Lmtp)
        {
            foreach (int index in _results.Accepted)
            {
                SmtpReply reply = await ReadAsync(_options.DataDoneTimeout);
                _closing |= reply.IsClosing;
                _results.Decide(index, reply.Status, reply.Dsn, FinalText(reply), _server.Relay, _session.Features.Dsn);
            }
        }
        else
        {
            SmtpReply reply = await ReadAsync(_options.DataDoneTimeout);
            _closing |= reply.IsClosing;
            _results.DecideRemaining(reply.Status, reply.Dsn, FinalText(reply), _server.Relay, _session.Features.Dsn);
        }
        return !_closing;
    }

    private async ValueTask<SmtpReply> ReadAsync(TimeSpan limit)
    {
        _stage.Start(limit);
        return await _session.ReadReplyAsync(_stage.Token);
    }

    /// <summary>Decides everyone not decided yet (the accepted included) by a refusing reply.</summary>
    private void Refuse(SmtpReply reply, string command) =>
        _results.DecideRemaining(Refusal(reply), reply.Dsn, FailureText.Said(_server, reply, command), _server.Relay);

    private static RecipientStatus Refusal(SmtpReply reply) => reply.IsPermanent ? RecipientStatus.Bounced : RecipientStatus.Deferred;

    private string FinalText(SmtpReply reply) =>
        reply.IsPositive ? reply.Text : FailureText.Said(_server, reply, FailureText.EndOfDataCommand);
}
