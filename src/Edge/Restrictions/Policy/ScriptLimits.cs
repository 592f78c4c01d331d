using Edge.Config;

namespace Edge.Restrictions.Policy;

/// <summary>
/// What one call of a policy script may use before it is stopped (edge_policy_time_limit, edge_policy_memory_limit
/// in bytes allocated, edge_policy_statement_limit, edge_policy_recursion_limit), and the access(5) action a call
/// that was stopped or failed answers (edge_policy_default_action), or whose store did not answer
/// (edge_policy_store_failure_action).
/// </summary>
internal sealed record ScriptLimits(TimeSpan Time, long Memory, int Statements, int Recursion, string DefaultAction, string StoreFailureAction)
{
    public static ScriptLimits From(MainConfig config)
    {
        TimeSpan time = config.GetTime("edge_policy_time_limit");
        long memory = config.GetLong("edge_policy_memory_limit");
        int statements = config.GetInt("edge_policy_statement_limit");
        int recursion = config.GetInt("edge_policy_recursion_limit");
        (string name, bool bad) = time <= TimeSpan.Zero ? ("edge_policy_time_limit", true)
            : memory <= 0 ? ("edge_policy_memory_limit", true)
            : statements <= 0 ? ("edge_policy_statement_limit", true)
            : recursion <= 0 ? ("edge_policy_recursion_limit", true) : ("", false);
        if (bad)
        {
            throw config.Error(name, "must be greater than zero: a script without a limit could hold its thread for ever");
        }
        return new ScriptLimits(time, memory, statements, recursion, Action(config, "edge_policy_default_action"),
            Action(config, "edge_policy_store_failure_action"));
    }

    private static string Action(MainConfig config, string name) =>
        config.Get(name).Trim() is { Length: > 0 } action ? action : throw config.Error(name, "must name an access(5) action");
}
