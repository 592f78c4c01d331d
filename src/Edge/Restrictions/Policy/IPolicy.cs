namespace Edge.Restrictions.Policy;

/// <summary>
/// Something that answers policy requests with access(5) actions: a policy server (check_policy_service) or a
/// JavaScript policy (check_policy_script).
/// </summary>
internal interface IPolicy
{
    /// <summary>How main.cf names it ("inet:127.0.0.1:10023", a script's path), for warnings.</summary>
    string Name { get; }

    /// <summary>The action for <paramref name="request"/>; null when there is none to apply (the failure is logged).</summary>
    Task<string?> AskAsync(PolicyRequest request, CancellationToken cancellationToken);
}
