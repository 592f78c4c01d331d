using Edge.Logging;
using Jurassic;
using Jurassic.Library;

namespace Edge.Restrictions.Policy;

/// <summary>
/// A JavaScript policy (check_policy_script FILE): the script defines <c>function policy(request)</c>, which
/// gets the attributes of Postfix's policy delegation protocol (SMTPD_POLICY_README: request.sender,
/// request.client_address …) and returns an access(5) action — "DUNNO" (or nothing), "OK", "REJECT text",
/// "DEFER text", "450 4.7.1 text", or restriction names — exactly what a check_policy_service server answers.
/// The script is compiled when the configuration is loaded, so a syntax error stops start-up or a reload with
/// the file and line; it runs on <see cref="PolicyWorkers"/>, never on a session's thread. Besides the
/// language, it has <c>log(text)</c> (a line in the mail log) and <c>store</c> (<see cref="PolicyStore"/>).
/// </summary>
internal sealed class PolicyScript : IPolicy
{
    private const string EntryPoint = "policy";

    private PolicyScript(string path, string source, TimeSpan timeLimit)
    {
        Path = path;
        Source = source;
        TimeLimit = timeLimit;
    }

    public string Path { get; }

    public string Name => Path;
    public string Source { get; }

    /// <summary>edge_policy_time_limit: a request not answered by then is deferred (451 4.3.5).</summary>
    public TimeSpan TimeLimit { get; }

    /// <summary>The script, compiled once to find its mistakes; null with the reason when it cannot be used.</summary>
    public static PolicyScript? Load(string path, TimeSpan timeLimit, out string? error)
    {
        error = null;
        string source;
        try
        {
            source = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            error = $"check_policy_script {path}: {e.Message}";
            return null;
        }
        var script = new PolicyScript(path, source, timeLimit);
        error = script.Validate();
        return error is null ? script : null;
    }

    /// <summary>
    /// Runs the script's top level once, on a thread of its own: a top level that never ends must not hang
    /// start-up or a reload (the thread cannot be stopped, but the configuration is refused).
    /// </summary>
    private string? Validate()
    {
        string? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                CreateEngine(out _);
            }
            catch (JavaScriptException e)
            {
                error = $"check_policy_script {Path}, line {e.LineNumber}: {e.Message}";
            }
            catch (Exception e)
            {
                error = $"check_policy_script {Path}: {e.Message}";
            }
        }) { IsBackground = true, Name = "edge policy load" };
        thread.Start();
        TimeSpan limit = TimeLimit * 5;
        return thread.Join(limit) ? error
            : $"check_policy_script {Path}: the script's top level did not finish within {(long)limit.TotalSeconds}s";
    }

    /// <summary>An engine that has run the script; one per worker thread, since an engine is not thread-safe.</summary>
    public ScriptEngine CreateEngine(out FunctionInstance policy)
    {
        var engine = new ScriptEngine { RecursionDepthLimit = 1000 };
        string name = System.IO.Path.GetFileName(Path);
        engine.SetGlobalFunction("log", new Action<string>(text => MailLog.Info($"policy {name}: {text}")));
        engine.SetGlobalValue("store", new PolicyStore(engine));
        engine.Execute(new StringScriptSource(Source, Path));
        policy = engine.HasGlobalValue(EntryPoint) && engine.GetGlobalValue(EntryPoint) is FunctionInstance function
            ? function
            : throw new InvalidOperationException($"the script defines no function {EntryPoint}(request)");
        return engine;
    }

    /// <summary>The script's action for <paramref name="request"/>; null when it failed or ran out of time (logged).</summary>
    public async Task<string?> AskAsync(PolicyRequest request, CancellationToken cancellationToken)
    {
        Task<string?> answer = PolicyWorkers.Run(this, request);
        try
        {
            return await answer.WaitAsync(TimeLimit, cancellationToken);
        }
        catch (TimeoutException)
        {
            MailLog.Warning($"check_policy_script {Path}: no answer within {(long)TimeLimit.TotalMilliseconds} ms (edge_policy_time_limit); the request is deferred");
            PolicyWorkers.Overrun(answer);
            return null;
        }
    }
}
