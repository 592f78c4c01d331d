namespace Edge.Restrictions.Policy;

/// <summary>A policy question a restriction needs answered before it can decide (like a DNS check).</summary>
internal sealed record PolicyQuery(PolicyScript Script, PolicyRequest Request, string Key);

/// <summary>
/// The policy answers of the command being checked: a RCPT TO that waited for its policy is evaluated again and
/// finds the answer here. Cleared when the command is answered, so that the next one (a greylisting retry of the
/// same recipient too) asks afresh, as Postfix asks its policy service once per command.
/// </summary>
internal sealed class PolicyAnswers
{
    private readonly Dictionary<(PolicyScript, string), string?> _answers = [];

    public bool TryGet(PolicyScript script, string key, out string? action) => _answers.TryGetValue((script, key), out action);

    public void Add(PolicyQuery query, string? action) => _answers[(query.Script, query.Key)] = action;

    public void Clear() => _answers.Clear();
}

/// <summary>
/// Loads the check_policy_script files of one configuration: each file once, however many lists name it, with
/// edge_policy_time_limit.
/// </summary>
internal sealed class PolicyLoader(TimeSpan timeLimit)
{
    private readonly Dictionary<string, PolicyScript> _scripts = [];

    public PolicyScript? Load(string path, out string? error)
    {
        error = null;
        if (_scripts.TryGetValue(path, out PolicyScript? loaded))
        {
            return loaded;
        }
        PolicyScript? script = PolicyScript.Load(path, timeLimit, out error);
        if (script is not null)
        {
            _scripts[path] = script;
        }
        return script;
    }
}
