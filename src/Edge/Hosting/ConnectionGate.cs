using System.Text;
using Edge.Logging;
using Microsoft.AspNetCore.Connections;

namespace Edge.Hosting;

/// <summary>
/// edge_connection_limit: the most SMTP connections the whole server holds. One over the limit is told so
/// with a 421 and closed, rather than left waiting in the listen queue with no answer.
/// </summary>
internal sealed class ConnectionGate(int limit, string myHostname)
{
    private volatile int _limit = limit;

    /// <summary>edge_connection_limit; a reload may change it.</summary>
    public int Limit
    {
        get => _limit;
        set => _limit = value;
    }

    private readonly byte[] _refusal = Encoding.ASCII.GetBytes($"421 4.7.0 {myHostname} Error: too many connections\r\n");
    private int _open;

    public int Open => Volatile.Read(ref _open);

    public async Task<bool> TryEnterAsync(ConnectionContext connection)
    {
        int open = Interlocked.Increment(ref _open);
        int limit = _limit;
        if (limit <= 0 || open <= limit)
        {
            return true;
        }
        Interlocked.Decrement(ref _open);
        MailLog.Warning($"too many connections: {limit} open (edge_connection_limit); refused {connection.RemoteEndPoint}", "master");
        await connection.Transport.Output.WriteAsync(_refusal);
        return false;
    }

    public void Leave() => Interlocked.Decrement(ref _open);
}
