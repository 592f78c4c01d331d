using System.Diagnostics;
using System.Net;
using Edge.Logging;
using Edge.Net;
using Edge.Restrictions.Policy.Store;
using Edge.Tables;
using Jint;
using Jint.Native;
using Jint.Runtime;
using Jint.Runtime.Interop;

namespace Edge.Restrictions.Policy;

/// <summary>
/// One Jint engine that has run a <see cref="PolicyScript"/>'s top level, with its functions ready to call and its
/// limits armed for each call. An engine is not thread-safe: it serves one call at a time, from its script's pool
/// (<see cref="PolicyRunner"/>). The request object is made once and its properties set afresh for every call.
/// </summary>
internal sealed class ScriptInstance : IDisposable
{
    private readonly Engine _engine;
    private readonly ScriptLimitConstraint _limits;
    private readonly TimeSpan _timeLimit;
    private readonly ScriptAwaits _awaits;
    private readonly JsObject _request;

    /// <summary>The outcome of the call's promise, as the handlers given to its then() learn it.</summary>
    private readonly JsValue _onFulfilled;
    private readonly JsValue _onRejected;
    private JsValue? _fulfilled;
    private JsValue? _rejected;

    /// <summary>The stage functions and policy() the script defines, found once (a const or let binding is no property of the global object).</summary>
    private readonly Dictionary<string, JsValue> _functions = new(StringComparer.Ordinal);

    /// <param name="log">Where the script's log() lines go; null for the mail log.</param>
    public ScriptInstance(PolicyScript script, Action<string>? log)
    {
        var limits = _limits = new ScriptLimitConstraint(script.Limits);
        _timeLimit = script.Limits.Time;
        _engine = new Engine(options => options
            .Constraint(limits)
            .LimitRecursion(script.Limits.Recursion)
            .RegexTimeoutInterval(script.Limits.Time));
        limits.Engine = _engine;
        _awaits = new ScriptAwaits(_engine);
        string name = Path.GetFileName(script.Path);
        log ??= text => MailLog.Info($"policy {name}: {text}");
        _engine.SetValue("log", new ClrFunction(_engine, "log", (_, arguments) =>
        {
            log(arguments.Length > 0 ? arguments[0].ToString() : "");
            return JsValue.Undefined;
        }, 1));
        _engine.SetValue("store", PolicyStoreObject.Create(_engine, script.Store, _awaits));
        _engine.SetValue("tables", Tables(script));
        _engine.SetValue("net", Net());
        _engine.SetValue("dns", ScriptDns.Create(_engine, script.Dns, _awaits));
        // The top level sets the script up (tables, compiled expressions) once per engine: it may take longer than a call.
        limits.Time = TopLevelTime(script.Limits);
        _engine.Execute(script.Prepared);
        limits.Time = script.Limits.Time;
        _request = new JsObject(_engine);
        _onFulfilled = new ClrFunction(_engine, "fulfilled", (_, a) => _fulfilled = a.Length > 0 ? a[0] : JsValue.Undefined, 1);
        _onRejected = new ClrFunction(_engine, "rejected", (_, a) => _rejected = a.Length > 0 ? a[0] : JsValue.Undefined, 1);
        foreach (string candidate in ScriptStages.All.Select(stage => stage.Function).Append(ScriptStages.Fallback))
        {
            if (_engine.Evaluate($"typeof {candidate} === 'function' ? {candidate} : undefined") is Jint.Native.Function.Function function)
            {
                _functions[candidate] = function;
            }
        }
    }

    /// <summary>
    /// <c>tables.lookup("type:name", key)</c>: the table's result for exactly that key, or null, through Edge's table
    /// layer (any type main.cf takes); each table is opened once per script. A table that cannot be opened is an Error.
    /// A table a server answers (ldap, SQL, memcache, socketmap, tcp) is asked with <c>await tables.lookupAsync(…)</c>,
    /// whose promise the call waits for without holding a thread; tables.lookup refuses it with an Error that says so,
    /// every time, rather than hold the policy's thread while the server answers.
    /// </summary>
    private JsObject Tables(PolicyScript script)
    {
        var tables = new JsObject(_engine);
        tables.Set("lookup", new ClrFunction(_engine, "lookup", (_, a) =>
        {
            (ILookupTable table, string reference, string key) = Table(script, "lookup", a);
            return table.IsRemote
                ? throw Error($"tables.lookup: {reference} is answered by a server: ask it with await tables.lookupAsync()")
                : table.Lookup(key) is { } result ? result : JsValue.Null;
        }, 2));
        tables.Set("lookupAsync", new ClrFunction(_engine, "lookupAsync", (_, a) =>
        {
            (ILookupTable table, _, string key) = Table(script, "lookupAsync", a);
            return _awaits.Promise(AskAsync(table, key), result => result is { } found ? found : JsValue.Null);
        }, 2));
        return tables;
    }

    /// <summary>A table's answer; a table that cannot answer (a file table too) rejects the promise, for the script to catch.</summary>
    private static async ValueTask<string?> AskAsync(ILookupTable table, string key) => await table.LookupAsync(key, CancellationToken.None);

    /// <summary>The table and key a tables helper was called with.</summary>
    private (ILookupTable Table, string Reference, string Key) Table(PolicyScript script, string helper, JsValue[] arguments)
    {
        string reference = arguments.Length > 0 ? arguments[0].ToString() : "";
        ILookupTable table = script.Table(reference, out string? error) ?? throw Error($"tables.{helper}: {reference}: {error}");
        return (table, reference, arguments.Length > 1 ? arguments[1].ToString() : "");
    }

    /// <summary><c>net.inCidr(address, "network/bits")</c>: whether the address is in the network; an address that is not one is in none.</summary>
    private JsObject Net()
    {
        var net = new JsObject(_engine);
        net.Set("inCidr", new ClrFunction(_engine, "inCidr", (_, a) =>
        {
            string cidr = a.Length > 1 ? a[1].ToString() : "";
            if (!Network.TryParse(cidr, out Network network))
            {
                throw Error($"net.inCidr: \"{cidr}\" is not an address or network/bits");
            }
            Span<byte> bytes = stackalloc byte[16];
            return a.Length > 0 && IPAddress.TryParse(a[0].ToString().Trim('[', ']'), out IPAddress? address)
                && network.Contains(bytes[..Network.Bytes(address, bytes)]);
        }, 2));
        return net;
    }

    private JavaScriptException Error(string message) => new(_engine.Intrinsics.Error, message);

    /// <summary>Five times a call's time limit, and at least five seconds.</summary>
    private static TimeSpan TopLevelTime(ScriptLimits limits) => limits.Time * 5 > TimeSpan.FromSeconds(5) ? limits.Time * 5 : TimeSpan.FromSeconds(5);

    /// <summary>Whether the script defines a function of that name.</summary>
    public bool Defines(string function) => _functions.ContainsKey(function);

    /// <summary>
    /// Calls <paramref name="function"/> (by default the request's stage function, else policy()) with the request;
    /// its answer as an action ("DUNNO" for nothing). A script that awaits a helper (dns, store) is answered once the
    /// work is done, within edge_policy_time_limit, without holding a thread meanwhile. Throws what stopped it.
    /// </summary>
    public ValueTask<string> CallAsync(string? function, PolicyRequest request)
    {
        function ??= ScriptStages.FunctionFor(request.ProtocolState) is { } stage && Defines(stage) ? stage : ScriptStages.Fallback;
        if (!_functions.TryGetValue(function, out JsValue? callee))
        {
            throw new InvalidOperationException($"the script defines neither a function for this stage nor {ScriptStages.Fallback}(request)");
        }
        long started = Stopwatch.GetTimestamp();
        _awaits.Clear();
        JsObject argument = _request;
        if (request.Message is { } message)
        {
            argument = ScriptMessage.Create(_engine, request, message);
        }
        else
        {
            request.Fill(_request);
        }
        JsValue result = _engine.Invoke(callee, argument);
        if (!result.IsPromise())
        {
            return new ValueTask<string>(Answer(result));
        }
        _fulfilled = _rejected = null;
        _engine.Invoke(result.Get("then"), result, [_onFulfilled, _onRejected]);
        _engine.Advanced.ProcessTasks();
        return Settled ? new ValueTask<string>(Outcome()) : new ValueTask<string>(SettleAsync(started));
    }

    private bool Settled => _fulfilled is not null || _rejected is not null;

    /// <summary>The answer of a settled promise; a rejection is the script's error.</summary>
    private string Outcome() => _rejected is not null ? throw new JavaScriptException(_rejected) : Answer(_fulfilled!);

    /// <summary>Runs the script on as the work it awaits finishes, until its promise is settled or the time limit has passed.</summary>
    private async Task<string> SettleAsync(long started)
    {
        while (!Settled)
        {
            if (!_awaits.Waiting)
            {
                throw new InvalidOperationException("the script awaits a promise that nothing settles");
            }
            TimeSpan remaining = _timeLimit - Stopwatch.GetElapsedTime(started);
            _limits.Suspend();
            if (remaining <= TimeSpan.Zero || !await _awaits.WaitAsync(remaining))
            {
                throw new ScriptLimitException($"edge_policy_time_limit ({(long)_timeLimit.TotalMilliseconds} ms) while it awaited dns or store", "");
            }
            _limits.Resume();
            _awaits.SettleFinished();
            _engine.Advanced.ProcessTasks();
        }
        return Outcome();
    }

    /// <summary>
    /// The answer as one line: a control character (a line break from a header or the body the script quoted) would end
    /// the SMTP reply early and the client would read the rest as the next reply, so each becomes '?', as Postfix's
    /// printable() makes reply text.
    /// </summary>
    private static string Answer(JsValue result) => result.IsUndefined() || result.IsNull() ? "DUNNO" : Printable.Text(result.ToString());

    public void Dispose() => _engine.Dispose();
}
