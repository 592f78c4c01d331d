using System.Collections.Concurrent;
using System.Net;

namespace Edge.Smtp.Session;

/// <summary>
/// Concurrent connections per client address for one listener, as Postfix's anvil server counts them for
/// smtpd_client_connection_count_limit.
/// </summary>
internal sealed class Anvil
{
    private readonly ConcurrentDictionary<IPAddress, int> _connections = new();

    /// <summary>Counts a new connection from <paramref name="client"/>; returns how many it now has.</summary>
    public int Connect(IPAddress client) => _connections.AddOrUpdate(client, 1, static (_, n) => n + 1);

    public void Disconnect(IPAddress client)
    {
        while (_connections.TryGetValue(client, out int n))
        {
            if (n <= 1 ? _connections.TryRemove(new KeyValuePair<IPAddress, int>(client, n)) : _connections.TryUpdate(client, n - 1, n))
            {
                return;
            }
        }
    }
}
