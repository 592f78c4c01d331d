namespace Edge.Restrictions.Policy;

/// <summary>A policy question a restriction needs answered before it can decide (like a DNS check).</summary>
internal sealed record PolicyQuery(IPolicy Policy, PolicyRequest Request, Subject Subject);

/// <summary>
/// The policy answers of the command being checked: a RCPT TO that waited for its policy is evaluated again and
/// finds the answer here, by policy and by the list that asked (the request is the same otherwise). Cleared
/// when the command is answered, so that the next one (a greylisting retry of the same recipient too) asks
/// afresh, as Postfix asks its policy service once per command.
/// </summary>
internal sealed class PolicyAnswers
{
    private readonly Dictionary<(IPolicy, Subject), string?> _answers = [];

    public bool TryGet(IPolicy policy, Subject subject, out string? action) => _answers.TryGetValue((policy, subject), out action);

    public void Add(PolicyQuery query, string? action) => _answers[(query.Policy, query.Subject)] = action;

    public void Clear() => _answers.Clear();
}
