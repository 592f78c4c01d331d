using System.Net;
using System.Text;
using Edge.Logging;
using Edge.Net;
using Edge.Tables.Sql;

namespace Edge.Tables.Remote;

/// <summary>
/// memcache:/etc/postfix/cache.cf (memcache_table(5)): a memcached server (memcache = inet:host:port or unix:path),
/// asked "get KEY" with the key made by key_format; with a backup table, a key memcached does not have is looked up
/// there and, when found, stored in memcached for ttl seconds ("set"). Each try is bounded by timeout; a failed try is
/// made again after retry_pause, up to max_try; then the lookup fails, unless the backup table answers.
/// </summary>
internal sealed class MemcacheTable : RemoteTable
{
    private static readonly string[] Known =
        ["memcache", "backup", "key_format", "domain", "ttl", "flags", "timeout", "max_try", "retry_pause", "line_size_limit", "data_size_limit"];

    private readonly TableConnections _connections;
    private readonly ILookupTable? _backup;
    private readonly QueryTemplates? _keyFormat;
    private readonly DomainFilter? _domains;
    private readonly int _ttl;
    private readonly int _flags;
    private readonly TimeSpan _tryTimeout;
    private readonly int _maxTries;
    private readonly TimeSpan _retryPause;
    private readonly int _lineLimit;
    private readonly int _dataLimit;

    private MemcacheTable(string reference, TableConfigFile file, EndPoint endpoint, TableSettings settings) : base(reference, settings)
    {
        _connections = new TableConnections(endpoint, settings.ConnectionLimit);
        string format = file.Get("key_format", "%s");
        _keyFormat = format == "%s" ? null : QueryTemplates.Parse(file, reference, format, "%s");
        _domains = DomainFilter.Parse(file, settings);
        _ttl = file.GetInt("ttl", 3600);
        _flags = file.GetInt("flags", 0);
        _tryTimeout = TimeSpan.FromSeconds(file.GetInt("timeout", 2));
        _maxTries = file.GetInt("max_try", 2, min: 1);
        _retryPause = TimeSpan.FromSeconds(file.GetInt("retry_pause", 1, min: 1));
        _lineLimit = file.GetInt("line_size_limit", 1024, min: 1);
        _dataLimit = file.GetInt("data_size_limit", 10240, min: 1);
        if (file.Get("backup") is { } backup)
        {
            _backup = TableFactory.Open(backup, settings, out string? error) ?? throw file.Error("backup", $"{backup}: {error}");
        }
    }

    /// <exception cref="TableException">The file is wrong.</exception>
    public static MemcacheTable Open(string reference, string name, TableSettings settings)
    {
        TableConfigFile file = TableConfigFile.Read(name, Known);
        string server = file.Get("memcache", "inet:localhost:11211");
        EndPoint endpoint = ServiceEndpoint.Parse(server.Contains(':') ? server : $"inet:{server}:11211", "/")
            ?? throw file.Error("memcache", $"expected inet:host:port or unix:pathname, not \"{server}\"");
        return new MemcacheTable(reference, file, endpoint, settings);
    }

    protected override async Task<string?> QueryAsync(string key, CancellationToken cancellationToken)
    {
        key = key.ToLowerInvariant();
        // As Postfix: a key that cannot be a memcache key (or the domain list rules out) is asked of nobody.
        if (key.Length == 0 || (_domains is not null && !_domains.Allows(key))
            || (_keyFormat is null ? key : _keyFormat.Query(key, static text => text)) is not { Length: > 0 } cacheKey
            || cacheKey.Any(c => c < 0x80 && char.IsWhiteSpace(c)))
        {
            return null;
        }
        TableLookupException? failure = null;
        string? value = null;
        try
        {
            value = await TryAsync(cacheKey, GetAsync, cancellationToken);
        }
        catch (TableLookupException e) when (_backup is not null)
        {
            failure = e;
        }
        if (value is not null || _backup is null)
        {
            return value;
        }
        value = await _backup.LookupAsync(key, cancellationToken);
        // A memcached that just failed every try is not kept waiting on again to store the answer.
        if (value is not null && failure is null)
        {
            await StoreAsync(cacheKey, value, cancellationToken);
        }
        return value;
    }

    /// <summary>Keeps what the backup table found for ttl seconds; one that cannot be stored is only logged, as in Postfix.</summary>
    private async Task StoreAsync(string cacheKey, string value, CancellationToken cancellationToken)
    {
        if (Encoding.UTF8.GetByteCount(value) > _dataLimit)
        {
            MailLog.Warning($"database {Reference}: data for key {cacheKey} is too long (data_size_limit={_dataLimit}) -- not stored");
            return;
        }
        try
        {
            await TryAsync(cacheKey, (connection, k, token) => SetAsync(connection, k, value, token), cancellationToken);
        }
        catch (TableLookupException)
        {
            // Logged; the answer stands, the cache just does not have it.
        }
    }

    private async Task<string?> TryAsync(string cacheKey, Func<TableConnection, string, CancellationToken, Task<string?>> exchange,
        CancellationToken cancellationToken)
    {
        for (int tries = 1; ; tries++)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_tryTimeout);
            try
            {
                return await _connections.UseAsync(connection => exchange(connection, cacheKey, deadline.Token), deadline.Token);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ProtocolViolationException
                                          or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                string why = e is OperationCanceledException ? $"no answer within {_tryTimeout.TotalSeconds}s" : e.Message;
                if (tries >= _maxTries)
                {
                    throw Failed($"I/O error: {why}");
                }
                await Task.Delay(_retryPause, cancellationToken);
            }
        }
    }

    private async Task<string?> GetAsync(TableConnection connection, string cacheKey, CancellationToken cancellationToken)
    {
        await connection.WriteAsync(Encoding.UTF8.GetBytes($"get {cacheKey}\r\n"), cancellationToken);
        string line = await Line(connection, cancellationToken);
        if (line == "END")
        {
            return null;
        }
        string[] words = line.Split(' ');
        if (words.Length < 4 || words[0] != "VALUE" || !int.TryParse(words[3], out int length) || length < 0 || length > _dataLimit)
        {
            throw new ProtocolViolationException($"unexpected memcache server reply: {Printable.Escape(Encoding.UTF8.GetBytes(line[..Math.Min(line.Length, 30)]))}");
        }
        string value = await connection.ReadBlockAsync(length, cancellationToken);
        return await Line(connection, cancellationToken) == "END" ? value
            : throw new ProtocolViolationException("no END after the value");
    }

    private async Task<string?> SetAsync(TableConnection connection, string cacheKey, string value, CancellationToken cancellationToken)
    {
        byte[] data = Encoding.UTF8.GetBytes(value);
        await connection.WriteAsync([.. Encoding.UTF8.GetBytes($"set {cacheKey} {_flags} {_ttl} {data.Length}\r\n"), .. data, (byte)'\r', (byte)'\n'],
            cancellationToken);
        string line = await Line(connection, cancellationToken);
        return line == "STORED" ? line : throw new ProtocolViolationException($"update failed: {line[..Math.Min(line.Length, 30)]}");
    }

    private async Task<string> Line(TableConnection connection, CancellationToken cancellationToken) =>
        (await connection.ReadLineAsync(_lineLimit, cancellationToken)).TrimEnd('\r');
}
