using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using Edge.Cleanup;
using Edge.Logging;
using Edge.Mail;
using Edge.Metrics;
using Edge.Queue;
using Edge.Smtp.Data;
using Edge.Smtp.Proxy;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Session;

/// <summary>
/// One SMTP connection. The loop reads what the client sent, lets the synchronous <see cref="Process"/>
/// handle every complete command and data byte in it (writing replies into the output buffer), and
/// flushes the replies once the input is used up, so a pipelined group gets one write. Work that must wait
/// (a queue commit, the TLS handshake, an error sleep) is a <see cref="Step"/> that the loop awaits before
/// it continues with the rest of the input.
/// </summary>
internal sealed partial class SmtpSession : IAsyncDisposable
{
    private enum Mode : byte
    {
        Command,
        SkipLine,
        Data,
        Bdat,
    }

    private enum Step : byte
    {
        NeedInput,
        EndOfMessage,
        StartTls,
        /// <summary>Send what is buffered (after the error sleep, if one is due), then go on with the input.</summary>
        Flush,
        /// <summary>A RCPT TO waits for a DNS answer its restrictions need (SmtpSession.Restrictions.cs).</summary>
        Lookup,
        /// <summary>A command waits for the mail filters or the before-queue proxy filter (SmtpSession.Filters.cs).</summary>
        Filters,
        /// <summary>VRFY or ETRN waits for the DNS or policy answers its restrictions need (<see cref="_awaited"/>).</summary>
        Await,
        Close,
    }

    private readonly SmtpdSettings _s;
    private readonly QueueStore _queue;
    private readonly IDuplexPipe _transport;
    /// <summary>Whether the real connection (not what XCLIENT claims) may use XCLIENT.</summary>
    private readonly bool _xclientAllowed;
    private readonly Envelope _envelope = new();
    private readonly CleanupMessage _cleanup;
    private readonly DataScanner _scanner = new();
    private readonly CommandStats _stats = new();
    private byte[]? _lineBuffer;
    private readonly CancellationToken _connectionClosed;
    private readonly CancellationToken _stopping;
    private readonly CancellationToken _hardStop;
    private readonly CancellationTokenRegistration _onStopping;
    private readonly CancellationTokenRegistration _onHardStop;
    private readonly long _sessionEnds;
    private readonly Anvil _anvil;
    private readonly System.Net.Sockets.Socket? _socket;

    /// <summary>The address the client connected to: the socket's, or the one a load balancer's PROXY header names.</summary>
    private IPEndPoint? _server;
    private IPAddress? _counted;
    // After the commit, the session only writes its reply and waits for the next command: cheap enough to
    // run on the committer's thread, which saves a thread hop (two context switches) per message.
    private readonly CommitWaiter _commitWaiter = new(continueOnCommitter: true);

    private PipeReader _input;
    private PipeWriter _output;
    private SslStream? _tls;
    private string? _tlsSummary;
    /// <summary>The Received: header's line about the client's certificate (smtpd_tls_received_header), or null.</summary>
    private string? _tlsClient;
    private Restrictions.Policy.PeerCertificate? _clientCertificate;
    /// <summary>Who the client is, as cleanup records it: made again when the peer, HELO, TLS or protocol changes.</summary>
    private Submission? _submission;
    private Mode _mode;
    private string? _helo;
    private bool _esmtp;
    private int _errors;
    private int _junk;
    private bool _illPipelining;
    private string _where = "CONNECT";
    private int _rcptOvershoot;
    private string? _closeReason;
    private bool _sleepFirst;
    /// <summary>When the current wait for the client ends (Environment.TickCount64), 0 when not waiting.</summary>
    private long _deadline;
    private int _expired;
    private volatile bool _flushing;
    private Peer _peer = null!;
    private bool _clientInMynetworks;
    private BareNewlineMode _bareMode;

    /// <param name="stopping">The server is stopping: finish the message in progress, then say 421.</param>
    /// <param name="hardStop">The shutdown deadline passed: end now.</param>
    /// <param name="socket">The connection's socket, when there is one: lets the pre-greeting check see bytes the
    /// kernel holds that the transport has not read yet, as Postfix's peekfd() does.</param>
    public SmtpSession(SmtpdSettings settings, QueueStore queue, Anvil anvil, IDuplexPipe transport, EndPoint? remote,
        CancellationToken connectionClosed, CancellationToken stopping, CancellationToken hardStop,
        System.Net.Sockets.Socket? socket = null, Func<string, bool?>? etrn = null, IPEndPoint? server = null)
    {
        _socket = socket;
        _server = server ?? socket?.LocalEndPoint as IPEndPoint;
        _etrn = etrn;
        _stopping = stopping;
        _hardStop = hardStop;
        _onStopping = stopping.UnsafeRegister(static s => ((SmtpSession)s!).WakeForShutdown(), this);
        _onHardStop = hardStop.UnsafeRegister(static s => ((SmtpSession)s!).Interrupt(), this);
        _anvil = anvil;
        _softBounce = settings.SoftBounce ? new SoftBounceWriter() : null;
        _transcript = settings.Notify is { } notify ? new SessionTranscript(notify.Classes, notify.HistoryThreshold) : null;
        _sessionEnds = SessionClock.Now + (long)settings.SessionTimeLimit.TotalMilliseconds;
        _s = settings;
        _queue = queue;
        _transport = transport;
        _input = transport.Input;
        _output = transport.Output;
        _connectionClosed = connectionClosed;
        SetPeer(Peer.FromEndPoint(remote));
        _xclientAllowed = _peer.Ip is not null && settings.XclientHosts.Contains(_peer.Ip);
        _cleanup = new CleanupMessage(queue, awaitsTables: true);
    }

    private ReplyWriter Reply => new(Transcribed(_softBounce is null ? _replies.Over(_output) : _softBounce.Over(_replies.Over(_output))));

    /// <summary>The session's replies by class, for edge.smtpd.replies.</summary>
    private readonly ReplyClasses _replies = new();

    /// <summary>notify_classes: the conversation history for the postmaster's notice; null when no class is named.</summary>
    private readonly SessionTranscript? _transcript;

    private IBufferWriter<byte> Transcribed(IBufferWriter<byte> output) => _transcript is null ? output : _transcript.Over(output);

    /// <summary>soft_bounce = yes: every 5XX reply goes out as 4XX; null otherwise.</summary>
    private readonly SoftBounceWriter? _softBounce;

    /// <summary>Makes <paramref name="peer"/> the client for every decision from now on.</summary>
    private void SetPeer(Peer peer)
    {
        _peer = peer;
        _submission = null;
        _clientInMynetworks = peer.Ip is not null && _s.Mynetworks.Contains(peer.Ip);
        _bareMode = peer.Ip is not null && _s.BareNewlineExclusions.Contains(peer.Ip) ? BareNewlineMode.Allow : _s.BareNewline;
    }

    public async Task RunAsync()
    {
        SessionClock.Shared.Add(this);
        if (_s.UpstreamProxy && !await ReadProxyHeaderAsync())
        {
            return;
        }
        string? reason = null;
        try
        {
            if (_s.PeernameLookup && _peer.Ip is { } ip && !IPAddress.IsLoopback(ip))
            {
                SetPeer(await _peer.NamedAsync(_s.Restrictions.Dns, _hardStop));
            }
            MailLog.Info($"connect from {_peer.NamAddr}");
            // Wrapper mode (port 465): TLS before anything is said; the pre-greeting check does not apply, as in Postfix.
            if (_s.ServerTls.Wrapper ? !await StartTlsAsync() || await RejectTooManyConnectionsAsync()
                    : await RejectPregreetingAsync() || await RejectTooManyConnectionsAsync())
            {
                return;
            }
            await PrepareSaslAsync();
            bool greeted;
            if (await ClientRejectionAsync() is { } denied)
            {
                // As Postfix: the rejection takes the greeting's place (the filters hear nothing), 421 or 521 hangs up.
                _accessDenied = denied;
                _errors++;
                Reply.Line(System.Text.Encoding.UTF8.GetBytes(denied));
                greeted = !denied.StartsWith("421", StringComparison.Ordinal) && !denied.StartsWith("521", StringComparison.Ordinal);
            }
            else
            {
                greeted = await GreetAsync();
            }
            await FlushAsync();
            if (greeted)
            {
                reason = await LoopAsync();
            }
        }
        catch (OperationCanceledException) when (_hardStop.IsCancellationRequested && !_connectionClosed.IsCancellationRequested)
        {
            // Nothing unacknowledged is lost: a message not yet answered with 250 is the client's to retry.
            await TryWriteFinalAsync(shutdown: true);
        }
        catch (TimeoutException) when (!_connectionClosed.IsCancellationRequested)
        {
            reason = "timeout";
            await TryWriteFinalAsync(shutdown: false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException
                                      or System.Security.Authentication.AuthenticationException
                                      or Microsoft.AspNetCore.Connections.ConnectionResetException)
        {
            reason = "lost connection";
        }
        finally
        {
            LogAbnormalEnd(reason);
            // Counted first, so that whoever reads the disconnect line finds the session's commands in the metrics.
            _stats.Publish();
            _replies.Publish();
            MailLog.Info($"disconnect from {_peer.NamAddr}{_stats.Format()}");
            await NotifyPostmasterAsync(reason);
        }
    }

    /// <summary>
    /// smtpd_upstream_proxy_protocol = haproxy: a load balancer's PROXY header names the real client before
    /// anything else is said. Without a valid one in smtpd_upstream_proxy_timeout the connection is closed,
    /// with a log line and no reply (the other side is a proxy, not a mail client).
    /// </summary>
    private async ValueTask<bool> ReadProxyHeaderAsync()
    {
        string connection = _peer.NamAddr;
        (ProxyReadOutcome outcome, IPEndPoint? source, IPEndPoint? destination, string? error) =
            await ProxyHeaderReader.ReadAsync(_input, _s.UpstreamProxyTimeout, _hardStop);
        switch (outcome)
        {
            case ProxyReadOutcome.Done:
                if (source is not null)
                {
                    SetPeer(Peer.FromEndPoint(source));
                }
                _server = destination ?? _server;
                return true;
            case ProxyReadOutcome.Invalid:
                MailLog.Warning($"haproxy read: {error} (connection from {connection})");
                return false;
            case ProxyReadOutcome.Lost:
                MailLog.Warning($"haproxy read: lost connection (connection from {connection})");
                return false;
            default:
                MailLog.Warning($"haproxy read: timeout error (connection from {connection})");
                return false;
        }
    }

    /// <summary>
    /// smtpd_client_connection_count_limit and smtpd_client_connection_rate_limit, except for
    /// smtpd_client_event_limit_exceptions and XCLIENT proxies, whose events anvil does not count at all.
    /// </summary>
    private async ValueTask<bool> RejectTooManyConnectionsAsync()
    {
        if (!_s.CountsClientEvents || _peer.Ip is null || _xclientAllowed || _s.ClientLimitExceptions.Contains(_peer.Ip))
        {
            return false;
        }
        _counted = _peer.Ip;
        (int count, int rate) = await _anvil.ConnectAsync(_counted);
        if (_s.ClientConnectionLimit > 0 && count > _s.ClientConnectionLimit)
        {
            MailLog.Warning($"Too many connections: {count} from {_peer.NamAddr} for service smtp");
            EdgeMetrics.RefusedConnections.Add(1, EdgeMetrics.Tag("limit", "smtpd_client_connection_count_limit"));
        }
        else if (_s.ClientConnectionRateLimit > 0 && rate > _s.ClientConnectionRateLimit)
        {
            MailLog.Warning($"Connection rate limit exceeded: {rate} from {_peer.NamAddr} for service smtp");
            EdgeMetrics.RefusedConnections.Add(1, EdgeMetrics.Tag("limit", "smtpd_client_connection_rate_limit"));
        }
        else
        {
            return false;
        }
        Reply.Write("421 4.7.0 "u8);
        Reply.WriteAscii(_s.MyHostname);
        Reply.Write(Replies.TooManyConnectionsSuffix);
        Reply.WriteAscii(_peer.Address);
        Reply.CrLf();
        await FlushAsync();
        return true;
    }

    /// <summary>
    /// One more MAIL FROM, RCPT TO or new TLS session counted against its *_rate_limit (when the client's events are
    /// counted); true, with Postfix's warning, when it goes past the limit.
    /// </summary>
    private bool RateExceeded(AnvilEvent what, int limit, string warning)
    {
        if (limit <= 0 || _counted is null)
        {
            return false;
        }
        int rate = _anvil.Count(_counted, what);
        if (rate <= limit)
        {
            return false;
        }
        MailLog.Warning($"{warning}: {rate} from {_peer.NamAddr} for service smtp");
        return true;
    }

    private bool KernelHasInput()
    {
        try
        {
            return _socket is { Available: > 0 };
        }
        catch (Exception e) when (e is ObjectDisposedException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    /// <summary>smtpd_forbid_unauth_pipelining: a client that talks before the greeting is not a real MTA.</summary>
    private async ValueTask<bool> RejectPregreetingAsync()
    {
        if (!_input.TryRead(out ReadResult early))
        {
            if (!KernelHasInput())
            {
                return false;
            }
            // The client spoke, but the transport has not read it yet: wait for it to arrive.
            early = await _input.ReadAsync();
        }
        ReadOnlySequence<byte> pending = early.Buffer;
        bool talked = !pending.IsEmpty;
        if (talked)
        {
            MailLog.Info($"improper command pipelining after CONNECT from {_peer.NamAddr}: {Printable.Escape(pending)}");
        }
        _input.AdvanceTo(pending.Start);
        if (!talked)
        {
            return false;
        }
        _illPipelining = true;
        if (!_s.ForbidUnauthPipelining)
        {
            return false;
        }
        Reply.Line(Replies.Synchronization);
        await FlushAsync();
        return true;
    }

    /// <summary>Bytes a session takes from its client before it lets other sockets have a turn.</summary>
    internal const int FairShare = 128 * 1024;

    private async Task<string?> LoopAsync()
    {
        bool inputLeft = false;
        long sinceTurn = 0;
        while (true)
        {
            if (_stopping.IsCancellationRequested && _mode == Mode.Command)
            {
                // Between commands at shutdown: any message already got its 250; the client retries the rest.
                Reply.Line(Replies.ShuttingDown);
                await FlushAsync();
                return null;
            }
            if (!inputLeft)
            {
                // About to wait for the client: whatever we answered so far goes out now, in one write.
                await FlushAsync();
            }
            ArmDeadline();
            ReadResult result = await _input.ReadAsync();
            ThrowIfInterrupted();
            ReadOnlySequence<byte> buffer = result.Buffer;
            // Content is taken a fair share at a time (see below), which also bounds what waits for room in the queue log.
            bool cut = _mode is Mode.Data or Mode.Bdat && buffer.Length > FairShare;
            if (cut)
            {
                buffer = buffer.Slice(0, FairShare);
            }
            SequencePosition taken = buffer.End;
            bool ended = result.IsCompleted && !cut;
            long before = buffer.Length;
            Step step = Process(ref buffer);
            sinceTurn += before - buffer.Length;
            inputLeft = step != Step.NeedInput && !buffer.IsEmpty;
            // smtpd_per_request_deadline: a command or content line must arrive whole within smtpd_timeout,
            // so a client trickling one byte at a time cannot keep restarting the clock.
            if (!_s.PerRequestDeadline || step != Step.NeedInput || !MidRecord(buffer))
            {
                _deadline = 0;
            }
            if (inputLeft)
            {
                // Examined only up to what was used, so the next read returns the rest at once.
                _input.AdvanceTo(buffer.Start);
            }
            else
            {
                _input.AdvanceTo(buffer.Start, cut ? taken : result.Buffer.End);
            }

            if (_proxy is not null && _mode is Mode.Data or Mode.Bdat)
            {
                await _proxy.FlushAsync(_hardStop);
            }
            if (_cleanup.Backlogged)
            {
                // The queue log's memory is full, or cleanup holds the content for a directory's answer: this session
                // reads no more until the disk has taken its content and the answer is in.
                await _cleanup.DrainAsync(_hardStop);
            }
            if (sinceTurn >= FairShare)
            {
                // Kestrel receives on the socket's I/O thread for as long as the client has sent more, and a session
                // runs there too (inline scheduling): a client that sends as fast as we read would keep that thread,
                // and every other socket on it, the listener's among them, waiting. Stepping off to the pool lets its
                // input pipe fill, which sends the I/O thread back to its other sockets.
                sinceTurn = 0;
                await Task.Yield();
            }
            if (_sleepFirst && step != Step.NeedInput)
            {
                _sleepFirst = false;
                await Task.Delay(_s.ErrorSleep, _hardStop);
            }
            switch (step)
            {
                case Step.NeedInput when ended:
                    return _where == "END-OF-MESSAGE" ? null : "lost connection";
                case Step.EndOfMessage:
                    // Inline rather than a helper method: this loop's state machine exists once per
                    // session, a helper's would be allocated for every message.
                    long address = -1;
                    if (_proxy is not null && !(_scanner.SawBareLf && _bareMode == BareNewlineMode.Reject))
                    {
                        await EndProxiedMessageAsync();
                    }
                    else if (_s.Restrictions.EndOfData.IsEmpty || !await RefusedAtEndOfDataAsync())
                    {
                        if (_cleanup.WaitsForTables && (_milters is null || _milterDiscard))
                        {
                            // A directory's answers for the end of the content, BCC and the virtual alias expansion come
                            // in here, not on this thread in cleanup.
                            await _cleanup.PrefetchAsync(_saved, _hardStop);
                        }
                        address = _milters is null || _milterDiscard ? EndMessage() : await EndMessageWithMiltersAsync();
                    }
                    Exception? failure = null;
                    if (address >= 0)
                    {
                        try
                        {
                            await _cleanup.WaitCommittedAsync(address, _commitWaiter);
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            failure = e;
                        }
                    }
                    if (FinishMessage(address, failure))
                    {
                        await FlushAsync();
                        return null;
                    }
                    break;
                case Step.StartTls:
                    await FlushAsync();
                    if (!await StartTlsAsync())
                    {
                        return null;
                    }
                    break;
                case Step.Flush:
                    await FlushAsync();
                    break;
                case Step.Lookup:
                    do
                    {
                        await FetchLookupAsync();
                    }
                    while (!ResumeRcpt());
                    if (_filterStage == FilterStage.None || await ResumeAfterFiltersAsync())
                    {
                        break;
                    }
                    await FlushAsync();
                    return null;
                case Step.Await:
                    Func<Task> awaited = _awaited!;
                    _awaited = null;
                    await awaited();
                    break;
                case Step.Filters:
                    if (await ResumeAfterFiltersAsync())
                    {
                        break;
                    }
                    await FlushAsync();
                    return null;
                case Step.Close:
                    await FlushAsync();
                    return _closeReason;
            }
        }
    }

    private bool MidRecord(in ReadOnlySequence<byte> rest) =>
        _mode switch
        {
            Mode.Command => !rest.IsEmpty,
            Mode.Data => !_scanner.AtLineStart,
            _ => true,
        };

    /// <summary>Sends the buffered replies; a client that does not read them in smtpd_timeout times out.</summary>
    private async ValueTask FlushAsync()
    {
        bool arm = _deadline == 0;
        ArmDeadline();
        _flushing = true;
        FlushResult flushed = await _output.FlushAsync();
        _flushing = false;
        ThrowIfInterrupted();
        if (arm)
        {
            _deadline = 0;
        }
        if (flushed.IsCompleted)
        {
            throw new IOException("client closed the connection");
        }
    }

    /// <summary>Starts the smtpd_timeout clock for a wait, unless a per-request deadline is already running.</summary>
    private void ArmDeadline()
    {
        if (_deadline == 0)
        {
            _deadline = SessionClock.Now + (long)_s.Timeout.TotalMilliseconds;
        }
    }

    /// <summary>
    /// Called by the <see cref="SessionClock"/>: a wait past smtpd_timeout, or a session past
    /// edge_session_time_limit, is interrupted; the session then answers 421 and ends.
    /// </summary>
    internal void CheckDeadlines(long now)
    {
        long deadline = Volatile.Read(ref _deadline);
        if (((deadline != 0 && now >= deadline) || now >= _sessionEnds) && Interlocked.Exchange(ref _expired, 1) == 0)
        {
            Interrupt();
        }
    }

    /// <summary>Ends whatever the session waits for: a read or a flush returns at once, cancelled.</summary>
    private void Interrupt()
    {
        _input.CancelPendingRead();
        // Only a flush in progress: cancelling the next one would lose the 421 that tells the client why.
        if (_flushing)
        {
            _output.CancelPendingFlush();
        }
    }

    private void ThrowIfInterrupted()
    {
        _hardStop.ThrowIfCancellationRequested();
        if (Volatile.Read(ref _expired) != 0)
        {
            throw new TimeoutException();
        }
    }

    /// <summary>A session waiting for its next command stops waiting; one receiving a message goes on.</summary>
    private void WakeForShutdown()
    {
        if (_mode is Mode.Command or Mode.SkipLine)
        {
            _input.CancelPendingRead();
        }
    }

    private async Task TryWriteFinalAsync(bool shutdown)
    {
        try
        {
            if (shutdown)
            {
                Reply.Line(Replies.ShuttingDown);
            }
            else
            {
                WriteHostReply(Replies.TimeoutPrefix, Replies.TimeoutSuffix);
            }
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _output.FlushAsync(bounded.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException
                                      or InvalidOperationException)
        {
            // The client is gone or stuck; there is no one left to tell.
        }
    }

    /// <summary>Replies that carry the host name in the middle: "421 4.4.2 host Error: timeout exceeded".</summary>
    private void WriteHostReply(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> suffix)
    {
        Reply.Write(prefix);
        Reply.WriteAscii(_s.MyHostname);
        Reply.Line(suffix);
    }

    private void LogAbnormalEnd(string? reason)
    {
        if (reason is null)
        {
            return;
        }
        string id = QueueIdOrNoQueue;
        if (_mode == Mode.Data)
        {
            MailLog.Info($"{id}: {reason} after DATA ({_cleanup.Size} bytes) from {_peer.NamAddr}");
        }
        else if (_mode == Mode.Bdat)
        {
            MailLog.Info($"{id}: {reason} after BDAT ({_cleanup.Size} bytes) from {_peer.NamAddr}");
        }
        else if (_where != "END-OF-MESSAGE" || reason != "lost connection")
        {
            MailLog.Info($"{id}: {reason} after {_where} from {_peer.NamAddr}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_counted is not null)
        {
            _anvil.Disconnect(_counted);
        }
        SessionClock.Shared.Remove(this);
        _onStopping.Dispose();
        _onHardStop.Dispose();
        _cleanup.Dispose();
        if (_milters is not null)
        {
            await _milters.DisposeAsync();
        }
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }
        if (_tls is not null)
        {
            await _tls.DisposeAsync();
        }
        _transcript?.Release();
    }
}
