using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Edge.Smtp.Session;

/// <summary>What <see cref="Anvil"/> counts per client besides its connections.</summary>
internal enum AnvilEvent
{
    Connection,
    Message,
    Recipient,
    NewTlsSession,
    Auth,
}

/// <summary>
/// Postfix's anvil(8) for one listener: per client address, the connections open now
/// (smtpd_client_connection_count_limit) and the connections, MAIL FROM and RCPT TO commands and new TLS sessions in
/// the current anvil_rate_time_unit (the *_rate_limit settings). As in anvil, a client's rates start again when a
/// time unit has passed since its window began, and what a client did is remembered for a time unit after its last
/// connection closes.
/// </summary>
internal sealed class Anvil(TimeSpan timeUnit)
{
    /// <summary>One client's counts; a lock on it guards them.</summary>
    private sealed class Client
    {
        public int Connections;
        public long WindowStart;
        public readonly int[] Rates = new int[5];
    }

    private readonly ConcurrentDictionary<IPAddress, Client> _clients = new();
    private readonly long _unit = (long)(timeUnit.TotalSeconds * Stopwatch.Frequency);
    private int _sinceSweep;

    public Anvil() : this(TimeSpan.FromSeconds(60))
    {
    }

    /// <summary>Counts a new connection from <paramref name="client"/>: how many it has open now, and its connection rate.</summary>
    public (int Count, int Rate) Connect(IPAddress client)
    {
        if (Interlocked.Increment(ref _sinceSweep) % 1024 == 0)
        {
            Sweep();
        }
        while (true)
        {
            Client record = _clients.GetOrAdd(client, static _ => new Client());
            lock (record)
            {
                if (record.WindowStart == -1)
                {
                    continue;
                }
                record.Connections++;
                return (record.Connections, Increment(record, AnvilEvent.Connection));
            }
        }
    }

    public void Disconnect(IPAddress client)
    {
        if (_clients.TryGetValue(client, out Client? record))
        {
            lock (record)
            {
                record.Connections = Math.Max(0, record.Connections - 1);
            }
        }
    }

    /// <summary>Counts a MAIL FROM, RCPT TO or new TLS session of <paramref name="client"/>; its rate in this time unit.</summary>
    public int Count(IPAddress client, AnvilEvent what)
    {
        while (true)
        {
            Client record = _clients.GetOrAdd(client, static _ => new Client());
            lock (record)
            {
                if (record.WindowStart != -1)
                {
                    return Increment(record, what);
                }
            }
        }
    }

    /// <summary>The rate of <paramref name="what"/> without counting one more (STARTTLS asks before the handshake).</summary>
    public int Rate(IPAddress client, AnvilEvent what)
    {
        if (!_clients.TryGetValue(client, out Client? record))
        {
            return 0;
        }
        lock (record)
        {
            return Stopwatch.GetTimestamp() - record.WindowStart > _unit ? 0 : record.Rates[(int)what];
        }
    }

    private int Increment(Client record, AnvilEvent what)
    {
        long now = Stopwatch.GetTimestamp();
        if (record.WindowStart == 0 || now - record.WindowStart > _unit)
        {
            record.WindowStart = now;
            Array.Clear(record.Rates);
        }
        return record.Rates[(int)what] = Math.Min(int.MaxValue - 1, record.Rates[(int)what]) + 1;
    }

    /// <summary>Forgets clients without connections whose time unit is over, so that many passing clients cost nothing later.</summary>
    private void Sweep()
    {
        long now = Stopwatch.GetTimestamp();
        foreach ((IPAddress address, Client record) in _clients)
        {
            lock (record)
            {
                if (record.Connections == 0 && now - record.WindowStart > _unit)
                {
                    // Marked, so that a Connect that found it before the removal takes a fresh record instead.
                    record.WindowStart = -1;
                    _clients.TryRemove(new KeyValuePair<IPAddress, Client>(address, record));
                }
            }
        }
    }
}
