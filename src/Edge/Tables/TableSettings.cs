using Edge.Config;
using Edge.Unix;

namespace Edge.Tables;

/// <summary>
/// What tables share, from main.cf. Those a server answers: how long a lookup may take, how long answers are kept
/// (found, and not found) so that a busy MX does not ask the directory for every RCPT TO, and how many connections
/// one table may hold. environ: tables: the environment they read.
/// </summary>
/// <param name="Environment">The server's environment, or (for postmap) the command's.</param>
internal sealed record TableSettings(TimeSpan Timeout, TimeSpan CacheTime, TimeSpan NegativeCacheTime, int ConnectionLimit,
    ImportedEnvironment Environment)
{
    /// <param name="server">False for a command (postmap), whose environment import_environment does not clean.</param>
    /// <exception cref="ConfigException">A timeout under a second, or no connection at all; a bad import_environment.</exception>
    public static TableSettings From(MainConfig config, bool server = true)
    {
        TimeSpan timeout = config.GetTime("edge_table_timeout");
        if (timeout < TimeSpan.FromSeconds(1) || timeout > TimeSpan.FromDays(1))
        {
            throw config.Error("edge_table_timeout", $"invalid value {config.Get("edge_table_timeout")} (between 1s and 1d)");
        }
        int limit = config.GetInt("edge_table_connection_limit");
        if (limit < 1)
        {
            throw config.Error("edge_table_connection_limit", $"invalid value {limit} (min 1)");
        }
        return new(timeout, config.GetTime("edge_table_cache_time"), config.GetTime("edge_table_negative_cache_time"), limit,
            ImportedEnvironment.From(config, server));
    }
}
