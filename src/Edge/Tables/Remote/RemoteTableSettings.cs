using Edge.Config;

namespace Edge.Tables.Remote;

/// <summary>
/// What every table a server answers shares, from main.cf: how long a lookup may take, how long answers are kept
/// (found, and not found) so that a busy MX does not ask the directory for every RCPT TO, and how many connections
/// one table may hold.
/// </summary>
internal sealed record RemoteTableSettings(TimeSpan Timeout, TimeSpan CacheTime, TimeSpan NegativeCacheTime, int ConnectionLimit)
{
    /// <exception cref="ConfigException">A timeout under a second, or no connection at all.</exception>
    public static RemoteTableSettings From(MainConfig config)
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
        return new(timeout, config.GetTime("edge_table_cache_time"), config.GetTime("edge_table_negative_cache_time"), limit);
    }
}
