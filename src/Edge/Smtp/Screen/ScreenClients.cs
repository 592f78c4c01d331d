using System.Collections.Concurrent;
using System.Net;

namespace Edge.Smtp.Screen;

/// <summary>How many connections each client has open in one postscreen listener (postscreen_client_connection_count_limit).</summary>
internal sealed class ScreenClients
{
    private readonly ConcurrentDictionary<IPAddress, int> _open = new();

    /// <summary>Counts a connection; the client's count with it.</summary>
    public int Enter(IPAddress client) => _open.AddOrUpdate(client, 1, static (_, count) => count + 1);

    public void Leave(IPAddress client)
    {
        while (_open.TryGetValue(client, out int count))
        {
            if (count <= 1 ? _open.TryRemove(KeyValuePair.Create(client, count)) : _open.TryUpdate(client, count - 1, count))
            {
                return;
            }
        }
    }
}
