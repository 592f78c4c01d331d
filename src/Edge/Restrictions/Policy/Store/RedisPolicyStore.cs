using StackExchange.Redis;

namespace Edge.Restrictions.Policy.Store;

/// <summary>
/// <c>edge_policy_store = redis:HOST:PORT</c>: the values live in a Redis server that every Edge behind a load
/// balancer shares, so a sender is greylisted once between them and a rate counts all their connections. Keys are
/// prefixed with <c>edge-policy:</c>; lifetimes are Redis expiries; an increment is one Lua script, atomic between
/// servers. Edge starts without the server and reconnects by itself; meanwhile, and when an answer takes longer than
/// edge_policy_time_limit, the call answers edge_policy_store_failure_action instead of waiting. Calls wait for its
/// answers without holding a thread.
/// </summary>
internal sealed class RedisPolicyStore : IPolicyStore
{
    private const string Prefix = "edge-policy:";

    private const string IncrementScript = """
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return count
        """;

    private readonly string _endpoint;
    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _database;

    private RedisPolicyStore(string endpoint, ConnectionMultiplexer redis)
    {
        _endpoint = endpoint;
        _redis = redis;
        _database = redis.GetDatabase();
    }

    /// <summary>A store on the server at <paramref name="endpoint"/> (host:port); null with the reason when the endpoint is not one.</summary>
    public static RedisPolicyStore? Open(string endpoint, TimeSpan timeLimit, out string? error)
    {
        error = null;
        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(endpoint);
        }
        catch (ArgumentException e)
        {
            error = $"redis:{endpoint}: {e.Message}";
            return null;
        }
        if (options.EndPoints.Count != 1)
        {
            error = $"redis:{endpoint}: name one server as HOST:PORT";
            return null;
        }
        int milliseconds = (int)Math.Clamp(timeLimit.TotalMilliseconds, 1, int.MaxValue);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = Math.Max(milliseconds, 1000);
        options.SyncTimeout = milliseconds;
        options.AsyncTimeout = milliseconds;
        options.ClientName = "edge";
        return new RedisPolicyStore(endpoint, ConnectionMultiplexer.Connect(options));
    }

    public async ValueTask<string?> GetAsync(string key)
    {
        RedisValue value = await CallAsync(_database.StringGetAsync(Prefix + key));
        return value.IsNull ? null : value.ToString();
    }

    public async ValueTask SetAsync(string key, string value, double seconds)
    {
        if (seconds * 1000 < 1)
        {
            await CallAsync(_database.KeyDeleteAsync(Prefix + key));
            return;
        }
        await CallAsync(_database.StringSetAsync(Prefix + key, value, TimeSpan.FromMilliseconds(seconds * 1000)));
    }

    public async ValueTask<long> IncrementAsync(string key, double seconds) =>
        (long)await CallAsync(_database.ScriptEvaluateAsync(IncrementScript, [Prefix + key], [(long)Math.Max(1, seconds * 1000)]));

    /// <summary>A command's answer; a server that does not answer in time is the store's failure.</summary>
    private async Task<T> CallAsync<T>(Task<T> command)
    {
        try
        {
            return await command;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new PolicyStoreUnavailableException($"redis:{_endpoint}: {e.Message}", e);
        }
    }

    public async ValueTask DisposeAsync() => await _redis.DisposeAsync();
}
