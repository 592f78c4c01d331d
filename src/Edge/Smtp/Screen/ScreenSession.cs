using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Edge.Dns;
using Edge.Logging;
using Edge.Mail;
using Edge.Smtp.Proxy;

namespace Edge.Smtp.Screen;

/// <summary>
/// postscreen(8) for one connection, before any smtpd session exists (Postfix's POSTSCREEN_README): the access list,
/// the temporary allowlist, then the tests before the SMTP handshake (a pregreet wait behind a "220-" teaser, DNSBL
/// lookups that run meanwhile) and, when a client must be tested further or was caught, postscreen's own SMTP engine
/// (ScreenSession.Engine.cs). A client that passes is handed to smtpd on the same connection, with anything it
/// sent still unread; one tested in the engine must connect again.
/// </summary>
internal sealed partial class ScreenSession
{
    private const string Service = "postscreen";

    private readonly ScreenSettings _s;
    private readonly ScreenClients _clients;
    /// <summary>The connection; after STARTTLS in the engine, the TLS session over it.</summary>
    private IDuplexPipe _transport;
    private readonly CancellationToken _hardStop;
    /// <summary>When the current tests began (before, then after the SMTP handshake): what "after" in the log counts from, as in Postfix.</summary>
    private long _start = Environment.TickCount64;
    private IPEndPoint _client;
    private IPEndPoint? _server;

    /// <summary>When each test's pass expires (Unix seconds), as the cache has it and this session renews it.</summary>
    private long[] _expiry = new long[ScreenCache.Tests];
    private readonly bool[] _todo = new bool[ScreenCache.Tests];
    private readonly bool[] _passed = new bool[ScreenCache.Tests];

    /// <summary>The tests the client failed in this session (an ignored failure is not one), as Postfix's fail bits.</summary>
    private readonly bool[] _fails = new bool[ScreenCache.Tests];

    /// <summary>postscreen_access_list denied the client (and the action was not ignore).</summary>
    private bool _denied;
    private bool _new;

    /// <summary>The client spoke before its turn and was caught for it: postscreen's engine greets it with nothing.</summary>
    private bool _pregreeted;

    /// <summary>Not to be handed to smtpd: caught by a test with action enforce, or tested in the engine.</summary>
    private bool _noForward;

    /// <summary>The engine's answer to RCPT: 450 until a test with action enforce fails.</summary>
    private string _rcptReply = "450 4.3.2 Service currently unavailable";

    /// <param name="stopping">The server is stopping: the engine says 421 instead of waiting for the next command.</param>
    /// <param name="hardStop">The shutdown deadline passed: end now.</param>
    public ScreenSession(ScreenSettings settings, ScreenClients clients, IDuplexPipe transport, IPEndPoint client, EndPoint? server,
        CancellationToken stopping, CancellationToken hardStop)
    {
        _s = settings;
        _clients = clients;
        _transport = transport;
        _client = client;
        _server = server as IPEndPoint;
        _stopping = stopping;
        _hardStop = hardStop;
    }

    private readonly CancellationToken _stopping;

    private bool Failed => _denied || _fails.Any(f => f);

    /// <summary>The client as smtpd is to see it (the PROXY header's source, behind a load balancer).</summary>
    public IPEndPoint Client => _client;

    /// <summary>The address the client connected to, as smtpd is to see it (the PROXY header's destination).</summary>
    public IPEndPoint? Server => _server;

    private IPAddress Address => _client.Address.Unmapped();

    private string ClientAddrPort => $"[{Address}]:{_client.Port}";

    /// <summary>Screens the client; true when it is to be handed to smtpd.</summary>
    public async Task<bool> RunAsync()
    {
        try
        {
            if (_s.UpstreamProxy && !await ReadProxyHeaderAsync())
            {
                return false;
            }
            string server = _server is { } local ? $"[{local.Address.Unmapped()}]:{local.Port}" : "[unknown]:0";
            Log($"CONNECT from {ClientAddrPort} to {server}");
            IPAddress address = Address;
            int concurrency = _clients.Enter(address);
            try
            {
                return await ScreenAsync(concurrency);
            }
            finally
            {
                _clients.Leave(address);
            }
        }
        catch (Exception e) when (IsLost(e))
        {
            Log($"DISCONNECT {ClientAddrPort}");
            return false;
        }
        finally
        {
            if (_tls is not null)
            {
                await _tls.DisposeAsync();
            }
        }
    }

    /// <summary>The connection broke, or the server's shutdown deadline passed.</summary>
    private static bool IsLost(Exception e) => e is IOException or OperationCanceledException or ObjectDisposedException
        or Microsoft.AspNetCore.Connections.ConnectionResetException;

    private async Task<bool> ScreenAsync(int concurrency)
    {
        if (_s.ClientConnectionCountLimit > 0 && concurrency > _s.ClientConnectionCountLimit)
        {
            Log($"NOQUEUE: reject: CONNECT from {ClientAddrPort}: too many connections");
            return await DropAsync("421 4.7.0 Error: too many connections");
        }
        switch (await _s.Access.EvaluateAsync(Address, _s.Mynetworks, _hardStop))
        {
            case ScreenVerdict.Allow:
                Log($"ALLOWLISTED {ClientAddrPort}");
                return true;
            case ScreenVerdict.Deny:
                Log($"DENYLISTED {ClientAddrPort}");
                if (await FailAsync(_s.DenylistAction, "5.3.2 Service currently unavailable", null) is { } denied)
                {
                    return denied;
                }
                break;
        }
        long now = Now;
        long[]? cached = Failed ? null : await _s.Cache.LookupAsync(Address);
        _expiry = cached ?? new long[ScreenCache.Tests];
        _new = _expiry.Any(e => e == 0);
        for (int i = 0; i < ScreenCache.Tests; i++)
        {
            _todo[i] = Enabled((ScreenTest)i) && now > _expiry[i];
        }
        if (cached is not null && !_todo.Any(t => t))
        {
            Log($"PASS OLD {ClientAddrPort}");
            return true;
        }
        string where = "tests before SMTP handshake";
        try
        {
            if ((_todo[(int)ScreenTest.Pregreet] || _todo[(int)ScreenTest.Dnsbl]) && await EarlyTestsAsync() is { } early)
            {
                return early;
            }
            if (_noForward || DeepTestsToDo())
            {
                where = "tests after SMTP handshake";
                await EngineAsync();
            }
        }
        catch (Exception e) when (IsLost(e) && !_hardStop.IsCancellationRequested)
        {
            // A read or write error is a hang-up, as in Postfix: what the client passed is still remembered.
            await HangupAsync(where);
            return false;
        }
        return await ConcludeAsync();
    }

    private bool Enabled(ScreenTest test) => test switch
    {
        ScreenTest.Pregreet => _s.Teaser is not null,
        ScreenTest.Dnsbl => _s.Dnsbl.Enabled,
        ScreenTest.Pipelining => _s.PipeliningEnable,
        ScreenTest.NonSmtp => _s.NonSmtpEnable,
        _ => _s.BareNewlineEnable,
    };

    private bool DeepTestsToDo() =>
        Enumerable.Range((int)ScreenTest.Pipelining, 3).Any(i => _todo[i] && !_passed[i]);

    /// <summary>
    /// The pregreet wait and the DNSBL lookups. Null to go on; true or false when the session ended here (dropped, or the
    /// client hung up).
    /// </summary>
    private async Task<bool?> EarlyTestsAsync()
    {
        _start = Environment.TickCount64;
        using var lookupsDone = CancellationTokenSource.CreateLinkedTokenSource(_hardStop);
        Task<DnsAnswer<IPAddress>>[] lookups = _todo[(int)ScreenTest.Dnsbl] ? _s.Dnsbl.Start(Address, lookupsDone.Token) : [];
        // Only a client that failed nothing may be allowlisted by its DNSBL score (and spared the rest of the wait).
        bool mayAllowlist = !Failed;
        Task allLookups = Task.WhenAll(lookups);
        bool pregreet = _todo[(int)ScreenTest.Pregreet];
        if (pregreet)
        {
            await _transport.Output.WriteAsync(_s.Teaser, _hardStop);
        }
        using var greetWait = CancellationTokenSource.CreateLinkedTokenSource(_hardStop);
        greetWait.CancelAfter(_s.GreetWait);
        bool pregreetFailed = false;
        bool allowlisted = false;
        if (pregreet)
        {
            Task<ReadResult> read = _transport.Input.ReadAsync(greetWait.Token).AsTask();
            // The wait ends early only when the DNSBL allowlists the client; otherwise every client waits greet_wait.
            Task lookupsOrAllowlist = lookups.Length == 0 || !mayAllowlist
                ? Task.Delay(Timeout.Infinite, greetWait.Token)
                : WaitForAllowlistAsync(allLookups, lookups, greetWait.Token);
            Task first = await Task.WhenAny(read, lookupsOrAllowlist);
            if (first == lookupsOrAllowlist && lookupsOrAllowlist.IsCompletedSuccessfully && !read.IsCompleted)
            {
                allowlisted = true;
                _transport.Input.CancelPendingRead();
            }
            try
            {
                ReadResult result = await read;
                ReadOnlySequence<byte> early = result.Buffer;
                // Unread, unexamined: what the client said is for the engine or smtpd to read.
                _transport.Input.AdvanceTo(early.Start);
                if (!result.IsCanceled && early.IsEmpty)
                {
                    return await HangupAsync("tests before SMTP handshake");
                }
                if (!result.IsCanceled)
                {
                    allowlisted = false;
                    Log($"PREGREET {Math.Min(early.Length, 1023)} after {Elapsed()} from {ClientAddrPort}: {Printable.Escape(early)}");
                    pregreetFailed = true;
                    // A client let off (action ignore) is not passed, gets the engine's greeting like any other, and takes
                    // the test again at its next connection.
                    _pregreeted = _s.GreetAction != ScreenAction.Ignore;
                    if (await FailAsync(_s.GreetAction, "5.5.1 Protocol error", ScreenTest.Pregreet) is { } caught)
                    {
                        return caught;
                    }
                    // The wait goes on only for the DNSBL answers, and no longer than greet_wait.
                    if (lookups.Length > 0)
                    {
                        await Task.WhenAny(allLookups, Task.Delay(Timeout.Infinite, greetWait.Token));
                    }
                }
            }
            catch (OperationCanceledException) when (!_hardStop.IsCancellationRequested)
            {
                // greet_wait passed in silence.
            }
        }
        else
        {
            await Task.WhenAny(allLookups, Task.Delay(_s.GreetWait, _hardStop));
        }
        _hardStop.ThrowIfCancellationRequested();
        long now = Now;
        if (pregreet && !pregreetFailed && !allowlisted)
        {
            Pass(ScreenTest.Pregreet, now + (long)_s.GreetTtl.TotalSeconds);
        }
        if (_todo[(int)ScreenTest.Dnsbl])
        {
            DnsblScore score = _s.Dnsbl.Score(lookups);
            await lookupsDone.CancelAsync();
            if (mayAllowlist && !pregreetFailed && (allowlisted || Allowlisted(score)))
            {
                AllowlistOtherTests(now + (long)score.Ttl.TotalSeconds);
            }
            if (score.Score < _s.Dnsbl.Threshold)
            {
                Pass(ScreenTest.Dnsbl, now + (long)score.Ttl.TotalSeconds);
            }
            else
            {
                Log($"DNSBL rank {score.Score} for {ClientAddrPort}");
                string? site = score.Name is { } name ? await _s.Dnsbl.ReplyNameAsync(name, _hardStop) : null;
                if (await FailAsync(_s.DnsblAction, $"5.7.1 Service unavailable; client [{Address}] blocked using {site}", ScreenTest.Dnsbl) is { } dropped)
                {
                    return dropped;
                }
            }
        }
        return null;
    }

    /// <summary>Completes when the lookups allowlist the client (postscreen_dnsbl_allowlist_threshold); never otherwise.</summary>
    private async Task WaitForAllowlistAsync(Task allLookups, Task<DnsAnswer<IPAddress>>[] lookups, CancellationToken cancellationToken)
    {
        await allLookups.WaitAsync(cancellationToken);
        if (!Allowlisted(_s.Dnsbl.Score(lookups)))
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    private bool Allowlisted(DnsblScore score) =>
        _s.Dnsbl.AllowlistThreshold < 0 && score.Score < _s.Dnsbl.Threshold && score.Score <= _s.Dnsbl.AllowlistThreshold;

    /// <summary>
    /// A client the DNSBLs vouch for passes the other tests it was to take now, and skips every other one (disabled ones
    /// too, should they be turned on) for as long as the DNSBL verdict lasts.
    /// </summary>
    private void AllowlistOtherTests(long until)
    {
        for (int i = 0; i < ScreenCache.Tests; i++)
        {
            if (i == (int)ScreenTest.Dnsbl)
            {
                continue;
            }
            if (_todo[i])
            {
                _passed[i] = true;
            }
            _expiry[i] = Math.Max(_expiry[i], until);
        }
    }

    private void Pass(ScreenTest test, long expiry)
    {
        _passed[(int)test] = true;
        _expiry[(int)test] = expiry;
    }

    /// <summary>
    /// A test (or, for null, the access list) failed with <paramref name="action"/>: null to go on, false when the client
    /// was dropped. Ignore lets the client off this one failure only.
    /// </summary>
    private async ValueTask<bool?> FailAsync(ScreenAction action, string reply, ScreenTest? test)
    {
        if (action == ScreenAction.Ignore)
        {
            return null;
        }
        if (test is { } failed)
        {
            _fails[(int)failed] = true;
        }
        else
        {
            _denied = true;
        }
        if (action == ScreenAction.Drop)
        {
            return await DropAsync("521 " + reply);
        }
        _noForward = true;
        _rcptReply = "550 " + reply;
        return null;
    }

    /// <summary>Says <paramref name="reply"/> and hangs up.</summary>
    private async Task<bool> DropAsync(string reply)
    {
        await WriteReplyAsync(reply);
        Log($"DISCONNECT {ClientAddrPort}");
        return false;
    }

    private async Task<bool> HangupAsync(string where)
    {
        Log($"HANGUP after {Elapsed()} from {ClientAddrPort} in {where}");
        _noForward = true;
        _finalReply = null;
        return await ConcludeAsync();
    }

    /// <summary>
    /// The end of the tests: a client that passed all it had to do is logged PASS NEW (or OLD, when it had passed them
    /// once before) and its passes are remembered; one not caught and not held back goes on to smtpd.
    /// </summary>
    private async Task<bool> ConcludeAsync()
    {
        if (Failed)
        {
            Array.Clear(_passed);
        }
        bool anyPassed = _passed.Any(p => p);
        if (anyPassed)
        {
            for (int i = 0; i < ScreenCache.Tests; i++)
            {
                // A test never passed while it was off is written as 1, so that turning it on later finds no new client.
                if (_expiry[i] == 0 && !Enabled((ScreenTest)i))
                {
                    _expiry[i] = 1;
                }
            }
            await _s.Cache.UpdateAsync(Address, _expiry, Enabled, Now);
        }
        if (anyPassed && Enumerable.Range(0, ScreenCache.Tests).All(i => _passed[i] == _todo[i]))
        {
            Log($"PASS {(_new ? "NEW" : "OLD")} {ClientAddrPort}");
        }
        if (!_noForward)
        {
            return true;
        }
        if (_finalReply is not null)
        {
            await WriteReplyAsync(_finalReply);
        }
        Log($"DISCONNECT {ClientAddrPort}");
        return false;
    }

    private async ValueTask<bool> ReadProxyHeaderAsync()
    {
        (ProxyReadOutcome outcome, IPEndPoint? source, IPEndPoint? destination, string? error) =
            await ProxyHeaderReader.ReadAsync(_transport.Input, _s.UpstreamProxyTimeout, _hardStop);
        switch (outcome)
        {
            case ProxyReadOutcome.Done:
                _client = source ?? _client;
                _server = destination ?? _server;
                return true;
            case ProxyReadOutcome.Timeout:
                MailLog.Warning("haproxy read: time limit exceeded", Service);
                break;
            case ProxyReadOutcome.Invalid:
                MailLog.Warning($"haproxy read: {error}", Service);
                break;
        }
        await WriteReplyAsync("421 4.3.2 No system resources");
        return false;
    }

    /// <summary>A reply line, with soft_bounce's 4XX for 5XX.</summary>
    private async ValueTask WriteReplyAsync(string reply)
    {
        await _transport.Output.WriteAsync(Encoding.UTF8.GetBytes(SoftBounced(reply) + "\r\n"), _hardStop);
    }

    private string SoftBounced(string reply) =>
        _s.SoftBounce && reply.Length > 4 && reply[0] == '5' ? "4" + reply[1..4] + (reply.Length > 5 && reply[4] == '5' ? "4" + reply[5..] : reply[4..]) : reply;

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static void Log(string message) => MailLog.Info(message, Service);

    /// <summary>Time since the current tests began, as Postfix writes it: two significant digits ("0.05", "1.2", "12").</summary>
    private string Elapsed()
    {
        double seconds = (Environment.TickCount64 - _start) / 1000.0;
        string text = seconds >= 10 ? Math.Round(seconds).ToString("0", System.Globalization.CultureInfo.InvariantCulture)
            : seconds >= 1 ? seconds.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)
            : seconds.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
        return text;
    }
}
