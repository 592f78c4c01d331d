using System.Text;
using Edge.Logging;
using Edge.Mail;
using Edge.Metrics;
using Edge.Milter;
using Edge.Queue;
using Edge.Resolve;
using Edge.Tables;

namespace Edge.Cleanup;

/// <summary>
/// The one way mail enters the queue, for every producer (Postfix's cleanup(8), which smtpd, bounce and local all
/// talk to): <see cref="Begin"/> a message with its envelope, stream its content in chunks of any size, then
/// <see cref="End"/> it. On the way, cleanup writes the Received: header, applies the header and body checks and the
/// header rules of <see cref="ContentInspector"/>, rewrites the envelope addresses (trivial-rewrite's local context,
/// then <see cref="AddressRewriting"/>) and the headers' (<see cref="HeaderRewriter"/>), carries out HOLD, DISCARD, FILTER, REDIRECT and BCC, expands virtual
/// aliases, removes duplicate recipients and appends the message to the queue (with the content filter it goes through); once the commit covers it,
/// <see cref="Committed"/> hands it to the queue manager. A producer keeps one and reuses it message after message;
/// between messages it holds no buffers.
/// </summary>
/// <param name="awaitsTables">
/// The producer awaits <see cref="DrainAsync"/> whenever cleanup is <see cref="Backlogged"/>, and the prefetches (the
/// SMTP session): what the message asks of tables a server answers is fetched there, without holding a thread. Other
/// producers' lookups wait on their thread.
/// </param>
internal sealed class CleanupMessage(QueueStore queue, bool awaitsTables = false) : IContentSink, IDisposable
{
    private readonly MessageWriter _writer = new(queue);
    private readonly MessageOrigin _origin = new();
    private ContentInspector? _inspector;
    private HeaderRewriter? _headerRewriter;

    /// <summary>The header rewriter of the message in hand; null when its headers are left alone.</summary>
    private HeaderRewriter? _activeRewriter;
    private CleanupSettings? _inspectorSettings;

    /// <summary>Why the envelope could not be rewritten (a table that cannot answer, no room left), or null.</summary>
    private CleanupOutcome? _envelopeFailure;

    /// <summary>milter_header_checks, for the headers mail filters add or change; null when there are none.</summary>
    private ContentInspector? _filterHeaderInspector;
    private Envelope _envelope = null!;
    private Submission _submission = null!;
    private CleanupSettings _settings = null!;
    private bool _hold;

    /// <summary>Where the mail filters read the message from, as it stands after the changes so far.</summary>
    private Func<IAsyncEnumerable<ReadOnlyMemory<byte>>> _content = null!;

    /// <summary>Content bytes taken so far, the headers cleanup wrote included (and those held for a table's answer).</summary>
    public long Size => _writer.Size + (_inspector?.HeldLength ?? 0);

    /// <summary>
    /// Starts a message for <paramref name="envelope"/> (whose recipients cleanup may change) with the headers of
    /// PREPEND actions (<paramref name="prepend"/>, CRLF-terminated lines) and, for mail received by SMTP, the
    /// Received: header.
    /// </summary>
    public void Begin(CleanupSettings settings, Envelope envelope, Submission submission, long sizeLimit, string? prepend = null)
    {
        _settings = settings;
        _envelope = envelope;
        _submission = submission;
        _hold = false;
        _writer.Begin(envelope.Id, sizeLimit);
        if (_inspector is null || !ReferenceEquals(_inspectorSettings, settings))
        {
            _inspector?.Release();
            _inspector = new ContentInspector(settings.Checks, settings.Headers);
            _headerRewriter = new HeaderRewriter(settings);
            _filterHeaderInspector?.Release();
            _filterHeaderInspector = settings.MilterHeaderChecks is { } checks
                ? new ContentInspector(checks, HeaderRules.Only(CheckStage.MilterHeaders, settings.Headers.HeaderSizeLimit)) : null;
            _inspectorSettings = settings;
        }
        _origin.Set(envelope, submission);
        RewriteContext? context = submission.LocalHeaders ? settings.LocalRewrite : settings.RemoteRewrite;
        _activeRewriter = null;
        if (_headerRewriter!.Applies(context))
        {
            _headerRewriter.Begin(context, envelope, envelope.Id.Arrival);
            _activeRewriter = _headerRewriter;
        }
        bool contentAsks = awaitsTables && (settings.Checks.IsRemote || (_activeRewriter is not null && settings.Rewriting.IsRemote));
        _inspector.Begin(_writer, envelope.Id, _origin, _activeRewriter, contentAsks ? _contentAnswers : null);
        if (prepend is not null)
        {
            Write(Encoding.UTF8.GetBytes(prepend));
        }
        if (submission.Received)
        {
            ReceivedHeader.Write(this, envelope, submission, settings.MyHostname, settings.MailName);
        }
        // As Postfix's cleanup rewrites the envelope records before the content arrives: a From: it adds shows the result.
        _envelopeFailure = RewriteEnvelope();
    }

    /// <summary>
    /// trivial-rewrite's local context ("alice" is alice@$myorigin from here on, MAILER-DAEMON is the null sender),
    /// then the canonical maps and masquerading; null when done.
    /// </summary>
    private CleanupOutcome? RewriteEnvelope()
    {
        using TableAnswers.Scope scope = TableAnswers.Use(_answers);
        if (!_envelope.Rewrite(_settings.EnvelopeRewrite))
        {
            return CleanupOutcome.TooBig;
        }
        if (_settings.IsMailerDaemon(_envelope[_envelope.Sender]))
        {
            _envelope.ReplaceSender([]);
        }
        return _settings.Rewriting.RewriteEnvelope(_envelope) ? null : CleanupOutcome.WriteError;
    }

    public void Write(ReadOnlySpan<byte> content) => _inspector!.Write(content);

    /// <summary>The answers of tables a server answers fetched for this message's envelope; null when none were.</summary>
    private TableAnswers? _answers;

    /// <summary>Those fetched for the line of content being inspected (the inspector forgets them line by line).</summary>
    private readonly TableAnswers _contentAnswers = new();

    /// <summary>Whether the prefetches have anything to do: some table cleanup asks is answered by a server.</summary>
    public bool WaitsForTables => awaitsTables && (_settings.VirtualAliases.IsRemote || _settings.Rewriting.IsRemote || _settings.Checks.IsRemote);

    /// <summary>
    /// Whether rewriting the envelope (canonical maps, masquerade_exceptions) asks tables a server answers: the session
    /// awaits <see cref="PrefetchEnvelopeAsync"/> before <see cref="Begin"/>.
    /// </summary>
    public bool EnvelopeWaitsForTables(CleanupSettings settings) => awaitsTables && settings.Rewriting.IsRemote;

    /// <summary>Fetches, without holding a thread, what rewriting <paramref name="envelope"/>'s addresses will ask.</summary>
    public async ValueTask PrefetchEnvelopeAsync(CleanupSettings settings, Envelope envelope, CancellationToken cancellationToken)
    {
        var addresses = new List<(string, AddressRole)>(envelope.RecipientCount + 1);
        if (!envelope[envelope.Sender].IsEmpty)
        {
            addresses.Add((Encoding.UTF8.GetString(envelope[envelope.Sender]), AddressRole.EnvelopeSender));
        }
        foreach (Envelope.Recipient recipient in envelope.Recipients)
        {
            addresses.Add((Encoding.UTF8.GetString(envelope[recipient.Address]), AddressRole.EnvelopeRecipient));
        }
        _answers ??= new TableAnswers();
        foreach ((string address, AddressRole role) in addresses)
        {
            await RewriteAheadAsync(settings, settings.LocalRewrite.Rewrite(address), role, envelope.Id, cancellationToken);
        }
    }

    /// <summary>Fetches what rewriting <paramref name="address"/> asks; the address it becomes.</summary>
    private async ValueTask<string> RewriteAheadAsync(CleanupSettings settings, string address, AddressRole role, QueueId id,
        CancellationToken cancellationToken) =>
        await _answers!.AskAheadAsync(() => settings.Rewriting.Rewrite(address, role, id, log: false), cancellationToken) ?? address;

    /// <summary>
    /// Fetches, without holding a thread, what the end of the content, the rewriting of BCC addresses and the virtual
    /// alias expansion of the message's recipients (and of a REDIRECT the restrictions saved) will ask of tables a server
    /// answers: the session awaits it before <see cref="End"/>.
    /// </summary>
    public async ValueTask PrefetchAsync(SavedActions? saved, CancellationToken cancellationToken)
    {
        _answers ??= new TableAnswers();
        await FinishContentAsync(cancellationToken);
        // The last header's REDIRECT or BCC is in the verdict once the content is complete.
        _inspector!.Complete();
        var addresses = new List<string>(_envelope.RecipientCount + 1);
        foreach (Envelope.Recipient recipient in _envelope.Recipients)
        {
            addresses.Add(Encoding.UTF8.GetString(_envelope[recipient.Address]));
        }
        if ((_inspector.Verdict.Redirect ?? saved?.Redirect) is { } redirect)
        {
            addresses.Add(redirect);
        }
        foreach (string bcc in (saved?.Bcc ?? []).Concat(_inspector.Verdict.Bcc))
        {
            addresses.Add(await RewriteAheadAsync(_settings, bcc, AddressRole.EnvelopeRecipient, _envelope.Id, cancellationToken));
        }
        await _settings.VirtualAliases.PrefetchAsync(addresses, _answers, cancellationToken);
    }

    /// <summary>Lets the inspector finish the content without waiting on a thread: what it holds, then its last line and header.</summary>
    private async ValueTask FinishContentAsync(CancellationToken cancellationToken)
    {
        while (_inspector!.PendingAtEnd() is { } pending)
        {
            await _contentAnswers.FetchAsync(pending, cancellationToken);
            if (_inspector.Pending is not null)
            {
                _inspector.Resume();
            }
        }
    }

    /// <summary>
    /// Content waits for room in the queue log, or for a table's answer: the session awaits <see cref="DrainAsync"/>
    /// before reading on.
    /// </summary>
    public bool Backlogged => _writer.Backlogged || _inspector?.Pending is not null;

    public async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        while (_inspector?.Pending is { } pending)
        {
            await _contentAnswers.FetchAsync(pending, cancellationToken);
            _inspector.Resume();
        }
        if (_writer.Backlogged)
        {
            await _writer.DrainAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The end of the content: what the checks decided, with the actions the restrictions saved
    /// (<paramref name="saved"/>), carried out; a message that survives is appended to the queue.
    /// </summary>
    public CleanupResult End(SavedActions? saved) => Refusal(saved) ?? Queue(saved, quarantined: false);

    /// <summary>
    /// <see cref="End"/> with mail filters: a message the checks let through is shown to <paramref name="milters"/>,
    /// and what they decide and change is carried out before it is queued.
    /// </summary>
    public async Task<CleanupResult> EndAsync(SavedActions? saved, MilterChain milters, CancellationToken cancellationToken)
    {
        await FinishContentAsync(cancellationToken);
        if (Refusal(saved) is { } refused)
        {
            return refused;
        }
        try
        {
            _content = await ContentAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return WriteFailed(e);
        }
        milters.Macros["i"] = _envelope.Id.ToString();
        string? reply = await milters.MessageAsync(() => _content(), _submission.Received, edits => ApplyAsync(edits, cancellationToken),
            cancellationToken);
        if (_writer.Failure is { } failure)
        {
            return WriteFailed(failure);
        }
        // What milter_header_checks decided about the filters' headers comes first, as Postfix's cleanup applies it.
        ContentVerdict verdict = _inspector!.Verdict;
        if (verdict.Reply is { } checkReply)
        {
            return new CleanupResult(CleanupOutcome.Rejected, Reply: checkReply);
        }
        if (verdict.Discard)
        {
            return new CleanupResult(CleanupOutcome.Discarded);
        }
        if (reply is null or ['H', ..] && WaitsForTables)
        {
            // After the filters, whose changes may have added recipients.
            await PrefetchAsync(saved, cancellationToken);
        }
        switch (reply?[0])
        {
            case null:
                return Queue(saved, quarantined: false);
            case 'H':
                _origin.LogMilter("milter-hold", reply.Length > 1 ? reply[1..] : "milter triggers HOLD action");
                return Queue(saved, quarantined: true);
            case 'D':
                _origin.LogMilter("milter-discard", "milter triggers DISCARD action");
                return new CleanupResult(CleanupOutcome.Discarded);
            case 'S':
                _origin.LogMilter("milter-reject", "4.7.0 Service unavailable");
                return new CleanupResult(CleanupOutcome.Shutdown, Reply: "421 4.7.0 Service unavailable");
            default:
                _origin.LogMilter("milter-reject", reply.Length > 4 ? reply[4..] : reply);
                return new CleanupResult(CleanupOutcome.Rejected, Reply: reply);
        }
    }

    /// <summary>
    /// The whole content as it stands at the end of the data, for the end-of-data policies to look at (read back from
    /// the queue when it is longer than a chunk).
    /// </summary>
    public async Task<byte[]> ContentAsArrayAsync(CancellationToken cancellationToken)
    {
        await FinishContentAsync(cancellationToken);
        _inspector!.Complete();
        _content = await ContentAsync(cancellationToken);
        using var copy = new MemoryStream();
        await foreach (ReadOnlyMemory<byte> piece in _content().WithCancellation(cancellationToken))
        {
            copy.Write(piece.Span);
        }
        return copy.ToArray();
    }

    /// <summary>
    /// PREPEND from smtpd_end_of_data_restrictions: <paramref name="headers"/> (CRLF-terminated lines) go to the top of
    /// the message, rewritten as a mail filter's inserted headers are.
    /// </summary>
    public async Task PrependAsync(string headers, CancellationToken cancellationToken)
    {
        await FinishContentAsync(cancellationToken);
        _inspector!.Complete();
        _content = await ContentAsync(cancellationToken);
        var edits = new MilterEdits();
        foreach (string header in headers.Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = header.IndexOf(':');
            edits.Headers.Add(new HeaderEdit(HeaderEditKind.Insert, edits.Headers.Count + 1, header[..colon], header[(colon + 1)..]));
        }
        await RewriteAsync(edits, cancellationToken);
    }

    /// <summary>Why the message is not queued, from what the checks and the restrictions decided; null when it may be.</summary>
    private CleanupResult? Refusal(SavedActions? saved)
    {
        _inspector!.Complete();
        ContentVerdict verdict = _inspector.Verdict;
        if (verdict.TooManyHops)
        {
            return new CleanupResult(CleanupOutcome.TooManyHops);
        }
        if (_writer.Overflowed)
        {
            MailLog.Warning($"{_envelope.Id}: queue file size limit exceeded", "cleanup");
            return new CleanupResult(CleanupOutcome.TooBig);
        }
        if ((verdict.Reply ?? verdict.MimeError) is { } reply)
        {
            return new CleanupResult(CleanupOutcome.Rejected, Reply: reply);
        }
        if (verdict.Discard || (saved?.Discard ?? false))
        {
            // Postfix claims the delivery and throws the message away.
            return new CleanupResult(CleanupOutcome.Discarded);
        }
        return _writer.Failure is { } failure ? WriteFailed(failure) : null;
    }

    /// <summary>The message's envelope after REDIRECT, BCC, virtual aliases and the duplicate filter, appended to the queue.</summary>
    private CleanupResult Queue(SavedActions? saved, bool quarantined)
    {
        using TableAnswers.Scope scope = TableAnswers.Use(_answers);
        if ((_envelopeFailure ?? (_activeRewriter is { Failed: true } ? CleanupOutcome.WriteError : null)) is { } failure)
        {
            return new CleanupResult(failure);
        }
        ContentVerdict verdict = _inspector!.Verdict;
        // The header checks come after the restrictions: their REDIRECT is the later one.
        if ((verdict.Redirect ?? saved?.Redirect) is { } redirect)
        {
            _envelope.ReplaceRecipients([(redirect, "", DsnNotify.Unspecified)]);
        }
        foreach (string bcc in (saved?.Bcc ?? []).Concat(verdict.Bcc))
        {
            if (_settings.Rewriting.Rewrite(bcc, AddressRole.EnvelopeRecipient, _envelope.Id) is not { } rewritten)
            {
                return new CleanupResult(CleanupOutcome.WriteError);
            }
            _envelope.AddRecipient(Encoding.UTF8.GetBytes(rewritten), default, DsnNotify.Never);
        }
        if (_settings.VirtualAliases.Expand(_envelope, _answers) is { } aliasError)
        {
            MailLog.Warning($"{_envelope.Id}: {aliasError} -- message not accepted", "cleanup");
            return new CleanupResult(CleanupOutcome.AliasError);
        }
        _envelope.RemoveDuplicates(_settings.DuplicateFilterLimit);
        if (_envelope.RecipientCount == 0)
        {
            // A filter deleted every recipient: Postfix's cleanup refuses a message without recipients.
            return new CleanupResult(CleanupOutcome.Rejected, Reply: "550 5.1.0 Error: no recipients specified");
        }
        _hold = verdict.Hold || (saved?.Hold ?? false) || quarantined;
        // The header checks' FILTER is the later one, and either overrides content_filter, as in Postfix.
        _envelope.Filter = verdict.Filter ?? saved?.Filter ?? _settings.ContentFilter;
        try
        {
            return new CleanupResult(CleanupOutcome.Queued, queue.AppendMessage(_envelope, _submission.Client, _writer, _hold));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return WriteFailed(e);
        }
    }

    /// <summary>
    /// The content as it stands, for the mail filters: a copy of the writer's buffer while the message fits one chunk
    /// (nothing to commit or read back); otherwise the last chunk is written, the log commits every chunk (it reads
    /// only what is committed) and they are read back.
    /// </summary>
    private async Task<Func<IAsyncEnumerable<ReadOnlyMemory<byte>>>> ContentAsync(CancellationToken cancellationToken)
    {
        if (_writer.Chunks.IsEmpty && _writer.Failure is null)
        {
            // A copy: a filter's changes start the writer again.
            ReadOnlyMemory<byte> whole = _writer.Unwritten.ToArray();
            return () => Once(whole);
        }
        _writer.Complete();
        if (_writer.Failure is { } failure)
        {
            throw failure;
        }
        ContentChunk[] chunks = _writer.Chunks.ToArray();
        await queue.WaitCommittedAsync(chunks[^1].Address, new CommitWaiter()).AsTask().WaitAsync(cancellationToken);
        return () => queue.ReadContentAsync(chunks, cancellationToken);
    }

    /// <summary>
    /// milter_header_checks on each header a filter adds or changes, as Postfix's cleanup checks them before they go in:
    /// IGNORE or STRIP keeps it out, REPLACE changes it, and what concerns the message (REJECT, DISCARD, HOLD, FILTER,
    /// REDIRECT, BCC) joins what the header and body checks decided.
    /// </summary>
    private async ValueTask CheckFilterHeadersAsync(MilterEdits edits, CancellationToken cancellationToken)
    {
        if (_filterHeaderInspector is not { } inspector)
        {
            return;
        }
        TableAnswers? answers = awaitsTables && _settings.MilterHeaderChecks!.IsRemote ? _contentAnswers : null;
        var output = new ContentBuffer();
        for (int i = edits.Headers.Count - 1; i >= 0; i--)
        {
            HeaderEdit edit = edits.Headers[i];
            if (edit.Value.Length == 0)
            {
                continue;
            }
            output.Buffer.ResetWrittenCount();
            inspector.Begin(output, _envelope.Id, _origin, answers: answers);
            inspector.Write(MilterEdits.HeaderBytes(edit.Name, edit.Value));
            while (answers is not null && inspector.PendingAtEnd() is { } pending)
            {
                await answers.FetchAsync(pending, cancellationToken);
                if (inspector.Pending is not null)
                {
                    inspector.Resume();
                }
            }
            inspector.Complete();
            _inspector!.Verdict.Add(inspector.Verdict);
            string result = Encoding.UTF8.GetString(output.Buffer.WrittenSpan).TrimEnd('\r', '\n').Replace("\r\n", "\n");
            int colon = result.IndexOf(':');
            if (colon <= 0)
            {
                edits.Headers.RemoveAt(i);
            }
            else
            {
                edits.Headers[i] = edit with { Name = result[..colon], Value = result[(colon + 1)..] };
            }
        }
        inspector.Release();
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Once(ReadOnlyMemory<byte> content)
    {
        await Task.CompletedTask;
        yield return content;
    }

    /// <summary>
    /// What a filter changed: the envelope at once (the recipients it deletes are named as the client gave them), the
    /// content rewritten into new chunks and committed, so that the next filter reads the changed message.
    /// </summary>
    private async Task ApplyAsync(MilterEdits edits, CancellationToken cancellationToken)
    {
        // A filter's new sender and recipients are rewritten like the client's, as Postfix's cleanup_milter does.
        if (edits.Sender is { } sender && await RewrittenAsync(Unbracketed(sender), AddressRole.EnvelopeSender, cancellationToken) is { } newSender)
        {
            _envelope.ReplaceSender(Encoding.UTF8.GetBytes(newSender));
        }
        foreach (string recipient in edits.DeletedRecipients)
        {
            _envelope.RemoveRecipients(Encoding.UTF8.GetBytes(Unbracketed(recipient)));
        }
        foreach (string recipient in edits.AddedRecipients)
        {
            if (await RewrittenAsync(Unbracketed(recipient), AddressRole.EnvelopeRecipient, cancellationToken) is { } added)
            {
                _envelope.AddRecipient(Encoding.UTF8.GetBytes(added), default, DsnNotify.Unspecified);
            }
        }
        await CheckFilterHeadersAsync(edits, cancellationToken);
        if (edits.ChangesContent)
        {
            await RewriteAsync(edits, cancellationToken);
        }
    }

    /// <summary>
    /// One envelope address in the local context, then by the canonical maps and masquerading; null (and the message
    /// not accepted) when a table cannot answer. What it asks of tables a server answers is fetched first.
    /// </summary>
    private async ValueTask<string?> RewrittenAsync(string address, AddressRole role, CancellationToken cancellationToken)
    {
        if (awaitsTables && _settings.Rewriting.IsRemote)
        {
            _answers ??= new TableAnswers();
            await RewriteAheadAsync(_settings, _settings.LocalRewrite.Rewrite(address), role, _envelope.Id, cancellationToken);
        }
        using TableAnswers.Scope scope = TableAnswers.Use(_answers);
        string local = _settings.LocalRewrite.Rewrite(address);
        if (role == AddressRole.EnvelopeSender && _settings.IsMailerDaemon(Encoding.UTF8.GetBytes(local)))
        {
            return "";
        }
        string? rewritten = local.Length == 0 ? local : _settings.Rewriting.Rewrite(local, role, _envelope.Id);
        _envelopeFailure ??= rewritten is null ? CleanupOutcome.WriteError : null;
        return rewritten;
    }

    /// <summary>The content rewritten with <paramref name="edits"/> into new chunks, committed, for whoever reads it next.</summary>
    private async Task RewriteAsync(MilterEdits edits, CancellationToken cancellationToken)
    {
        Func<IAsyncEnumerable<ReadOnlyMemory<byte>>> before = _content;
        _writer.Restart();
        await MilterContentEditor.RewriteAsync(before(), edits, _submission.Received, _writer);
        _content = await ContentAsync(cancellationToken);
    }

    /// <summary>An address as a filter gives it, with or without angle brackets and ESMTP arguments after them.</summary>
    private static string Unbracketed(string address)
    {
        string text = address.Trim();
        if (text.StartsWith('<') && text.IndexOf('>') is > 0 and var end)
        {
            return text[1..end];
        }
        int space = text.IndexOf(' ');
        return space < 0 ? text : text[..space];
    }

    /// <summary>Waits until the message appended at <paramref name="address"/> is durable.</summary>
    public ValueTask WaitCommittedAsync(long address, CommitWaiter waiter) => queue.WaitCommittedAsync(address, waiter);

    /// <summary>The commit covers the message: the queue manager may deliver it (or, held, it waits in the hold queue).</summary>
    public void Committed(long address)
    {
        queue.AddQueued(_envelope.Id, address, _envelope.RecipientCount, _writer.Chunks, _hold, _envelope.Filter);
        var protocol = EdgeMetrics.Tag("protocol", _submission.Client.Protocol);
        EdgeMetrics.MessagesQueued.Add(1, protocol);
        EdgeMetrics.BytesQueued.Add(_writer.Size, protocol);
        if (!_hold)
        {
            MailLog.Info($"{_envelope.Id}: from=<{new ClientText(_envelope[_envelope.Sender])}>, size={_writer.Size}, nrcpt={_envelope.RecipientCount} (queue active)", "qmgr");
        }
    }

    /// <summary>The commit failed: the message is not queued, and the producer must say so.</summary>
    public CleanupResult WriteFailed(Exception e)
    {
        MailLog.Warning($"{_envelope.Id}: queue file write error: {e.Message}", "cleanup");
        return new CleanupResult(CleanupOutcome.WriteError);
    }

    /// <summary>Stops storing what is written (the message is refused before its end).</summary>
    public void Discard() => _writer.Discard();

    /// <summary>Between messages: the buffers go back to the pool and the log may forget what was written.</summary>
    public void Release()
    {
        _writer.Release();
        _inspector?.Release();
        _answers = null;
        _contentAnswers.Clear();
    }

    public void Dispose()
    {
        _writer.Dispose();
        _inspector?.Release();
        _filterHeaderInspector?.Release();
    }
}
