using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Edge.Logging;
using Edge.Restrictions.Policy.Store;

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
/// <para>
/// With a store shared between servers (edge_policy_store = redis:), the rates count what the client did on every
/// server of the fleet: each event is added to a counter there, and a rate is the larger of this server's own count
/// and the fleet's as last heard plus this server's events since. A connection waits for the fleet's counts (one
/// round trip); a command does not wait, so a client whose commands on other servers are still on their way to the
/// store can pass a limit by those. A store that does not answer leaves this server's own counts, with a warning once
/// a minute.
/// </para>
/// </summary>
internal sealed class Anvil(TimeSpan timeUnit, IPolicyStore? fleet = null, string service = "smtp")
{
    private static readonly AnvilEvent[] Events = Enum.GetValues<AnvilEvent>();

    /// <summary>One client's counts; a lock on it guards them.</summary>
    private sealed class Client
    {
        public int Connections;
        public long WindowStart;
        public readonly int[] Rates = new int[5];

        /// <summary>The fleet's counts in this window as last heard, plus this server's events since.</summary>
        public readonly int[] Fleet = new int[5];
    }

    private readonly ConcurrentDictionary<IPAddress, Client> _clients = new();
    private readonly long _unit = (long)(timeUnit.TotalSeconds * Stopwatch.Frequency);
    private int _sinceSweep;
    private long _fleetFailureSaid = -60_000;

    public Anvil() : this(TimeSpan.FromSeconds(60))
    {
    }

    /// <summary>Counts a new connection from <paramref name="client"/>: how many it has open now, and its connection rate.</summary>
    public async ValueTask<(int Count, int Rate)> ConnectAsync(IPAddress client)
    {
        if (Interlocked.Increment(ref _sinceSweep) % 1024 == 0)
        {
            Sweep();
        }
        (Client record, int count, int rate, long window) = Connect(client);
        if (fleet is null)
        {
            return (count, rate);
        }
        long[]? heard = await FleetCountsAsync(client);
        if (heard is null)
        {
            return (count, rate);
        }
        lock (record)
        {
            if (record.WindowStart == window)
            {
                foreach (AnvilEvent what in Events)
                {
                    int i = (int)what;
                    // The increment of the connection counter includes this connection; the others are as they are.
                    record.Fleet[i] = Math.Max(record.Fleet[i], Clamp(heard[i]));
                }
            }
            return (count, Math.Max(rate, record.Fleet[(int)AnvilEvent.Connection]));
        }
    }

    private (Client Record, int Count, int Rate, long Window) Connect(IPAddress client)
    {
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
                NewWindowIfDue(record);
                int rate = Add(record, AnvilEvent.Connection);
                return (record, record.Connections, rate, record.WindowStart);
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

    /// <summary>Counts a MAIL FROM, RCPT TO, new TLS session or AUTH of <paramref name="client"/>; its rate in this time unit.</summary>
    public int Count(IPAddress client, AnvilEvent what)
    {
        while (true)
        {
            Client record = _clients.GetOrAdd(client, static _ => new Client());
            int rate;
            long window;
            lock (record)
            {
                if (record.WindowStart == -1)
                {
                    continue;
                }
                NewWindowIfDue(record);
                rate = Add(record, what);
                window = record.WindowStart;
            }
            if (fleet is not null)
            {
                _ = TellFleetAsync(client, what, record, window);
            }
            return rate;
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
            return Stopwatch.GetTimestamp() - record.WindowStart > _unit ? 0 : Math.Max(record.Rates[(int)what], record.Fleet[(int)what]);
        }
    }

    private void NewWindowIfDue(Client record)
    {
        long now = Stopwatch.GetTimestamp();
        if (record.WindowStart == 0 || now - record.WindowStart > _unit)
        {
            record.WindowStart = now;
            Array.Clear(record.Rates);
            Array.Clear(record.Fleet);
        }
    }

    /// <summary>One more event in this window: this server's rate, or the fleet's when that is higher.</summary>
    private int Add(Client record, AnvilEvent what)
    {
        int i = (int)what;
        int own = record.Rates[i] = Clamp(record.Rates[i] + 1L);
        if (fleet is null)
        {
            return own;
        }
        return Math.Max(own, record.Fleet[i] = Clamp(record.Fleet[i] + 1L));
    }

    private static int Clamp(long count) => (int)Math.Min(int.MaxValue - 1, count);

    private string Key(IPAddress client, AnvilEvent what) => $"anvil:{service}:{what}:{client}";

    /// <summary>Adds the connection to the fleet's counter and reads the client's other counters, in one round trip.</summary>
    private async Task<long[]?> FleetCountsAsync(IPAddress client)
    {
        double seconds = timeUnit.TotalSeconds;
        var calls = new Task<long>[Events.Length];
        foreach (AnvilEvent what in Events)
        {
            calls[(int)what] = what == AnvilEvent.Connection
                ? fleet!.IncrementAsync(Key(client, what), seconds).AsTask()
                : ReadAsync(Key(client, what));
        }
        try
        {
            return await Task.WhenAll(calls);
        }
        catch (Exception e) when (e is PolicyStoreUnavailableException or ObjectDisposedException)
        {
            FleetFailed(e);
            return null;
        }
    }

    private async Task<long> ReadAsync(string key) => long.TryParse(await fleet!.GetAsync(key), out long count) ? count : 0;

    /// <summary>Adds the event to the fleet's counter; what the store answers is the fleet's count, this event included.</summary>
    private async Task TellFleetAsync(IPAddress client, AnvilEvent what, Client record, long window)
    {
        try
        {
            long count = await fleet!.IncrementAsync(Key(client, what), timeUnit.TotalSeconds);
            lock (record)
            {
                if (record.WindowStart == window)
                {
                    record.Fleet[(int)what] = Math.Max(record.Fleet[(int)what], Clamp(count));
                }
            }
        }
        catch (Exception e) when (e is PolicyStoreUnavailableException or ObjectDisposedException)
        {
            FleetFailed(e);
        }
    }

    private void FleetFailed(Exception e) => MailLog.WarningOncePerMinute(ref _fleetFailureSaid,
        () => $"anvil: edge_policy_store {e.Message}: client rates count this server's events only (said once a minute)");

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
