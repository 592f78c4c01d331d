using System.Collections.Concurrent;
using System.Net;
using Edge.Net;

namespace Edge.Tables.Remote;

/// <summary>
/// The connections of one table to its server: kept for the next lookup while fresh, at most
/// edge_table_connection_limit at once (a lookup past it waits for one to come back).
/// </summary>
/// <param name="secure">What a new connection's stream becomes before anything is said on it (TLS).</param>
/// <param name="opened">What a new connection does before its first use (an LDAP bind).</param>
internal sealed class TableConnections(EndPoint endpoint, int limit, Func<Stream, CancellationToken, Task<Stream>>? secure = null,
    Func<TableConnection, CancellationToken, Task>? opened = null)
{
    private readonly ConcurrentBag<TableConnection> _idle = [];
    private readonly SemaphoreSlim _slots = new(limit, limit);

    /// <summary>
    /// Runs <paramref name="exchange"/> on a kept connection or a new one. A kept connection that the server closed while
    /// it was idle gets one more try on a new connection, as Postfix retries a broken connection once.
    /// </summary>
    public async Task<T> UseAsync<T>(Func<TableConnection, Task<T>> exchange, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                TableConnection? connection = TakeIdle();
                bool kept = connection is not null;
                try
                {
                    if (connection is null)
                    {
                        Stream stream = await ServiceEndpoint.ConnectAsync(endpoint, cancellationToken);
                        try
                        {
                            stream = secure is null ? stream : await secure(stream, cancellationToken);
                        }
                        catch
                        {
                            await stream.DisposeAsync();
                            throw;
                        }
                        connection = new TableConnection(stream);
                        if (opened is not null)
                        {
                            await opened(connection, cancellationToken);
                        }
                    }
                    T result = await exchange(connection);
                    _idle.Add(connection);
                    return result;
                }
                catch (Exception e) when (kept && e is IOException)
                {
                    connection!.Dispose();
                }
                catch
                {
                    connection?.Dispose();
                    throw;
                }
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    private TableConnection? TakeIdle()
    {
        while (_idle.TryTake(out TableConnection? connection))
        {
            if (connection.IsFresh)
            {
                return connection;
            }
            connection.Dispose();
        }
        return null;
    }
}
