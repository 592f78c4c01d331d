using Edge.Dns;
using Edge.Restrictions.Policy.Store;
using Edge.Tables;

namespace Edge.Restrictions.Policy;

/// <summary>
/// Loads the policies of one configuration's restriction lists: each check_policy_script file and each
/// check_policy_service server once, however many lists name it. The scripts' store is opened with the first script.
/// </summary>
internal sealed class PolicyLoader(ScriptLimits scriptLimits, PolicyServiceSettings services, Func<IPolicyStore> store, DnsResolver dns,
    TableSettings tables)
{
    /// <summary>How the restriction lists' (and the scripts') tables a server answers are asked.</summary>
    public TableSettings Tables { get; } = tables;

    private readonly Dictionary<string, IPolicy> _policies = [];

    public IPolicy? Load(Restriction kind, string reference, out string? error)
    {
        error = null;
        if (_policies.TryGetValue(reference, out IPolicy? loaded))
        {
            return loaded;
        }
        IPolicy? policy = kind == Restriction.CheckPolicyScript
            ? PolicyScript.Load(reference, scriptLimits, store(), dns, Tables, out error)
            : PolicyService.Parse(reference, services, out error);
        if (policy is not null)
        {
            _policies[reference] = policy;
        }
        return policy;
    }
}
