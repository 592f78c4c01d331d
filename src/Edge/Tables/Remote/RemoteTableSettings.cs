using Edge.Config;

namespace Edge.Tables.Remote;

/// <summary>
/// What every table a server answers shares, from main.cf: how long a lookup may take, how long answers are kept
/// (found, and not found) so that a busy MX does not ask the directory for every RCPT TO, and how many connections
/// one table may hold.
/// </summary>
internal sealed record RemoteTableSettings(TimeSpan Timeout, TimeSpan CacheTime, TimeSpan NegativeCacheTime, int ConnectionLimit)
{
    public static RemoteTableSettings From(MainConfig config) => new(config.GetTime("edge_table_timeout"),
        config.GetTime("edge_table_cache_time"), config.GetTime("edge_table_negative_cache_time"),
        config.GetInt("edge_table_connection_limit"));
}
