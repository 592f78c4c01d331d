using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Edge.Metrics;

namespace Edge.Dns;

/// <summary>
/// An asynchronous stub resolver: asks the configured recursive servers in turn, as glibc does, and keeps the
/// answers for their TTL. It never throws for what a server sends — a malformed reply is a FormatError answer
/// — only for bad arguments, cancellation and use after Dispose.
/// </summary>
internal sealed class DnsResolver : IDisposable
{
    /// <summary>No answer is kept longer, whatever its TTL says: bounds the damage of a bad or forged record.</summary>
    public static readonly TimeSpan MaxCacheTtl = TimeSpan.FromHours(1);

    /// <summary>
    /// How many times the target of a CNAME that a reply leaves unresolved is asked for itself. A recursive
    /// server resolves the chain; one that does not is a broken or hostile one and gets few more queries.
    /// </summary>
    public const int MaxCnameRequeries = 3;

    /// <summary>CNAMEs followed inside one reply; more is a loop or an abuse (RFC 1034 §3.6.2 expects few).</summary>
    public const int MaxCnameHops = 16;

    private readonly IPEndPoint[] _servers;
    private readonly DnsCache _cache;
    private readonly CancellationTokenSource _lifetime = new();
    private volatile bool _disposed;

    public DnsResolver(IReadOnlyList<IPEndPoint> servers, TimeSpan timeout, int attempts)
        : this(servers, timeout, attempts, TimeProvider.System)
    {
    }

    /// <summary>With the clock the cache ages its answers by (tests move it).</summary>
    internal DnsResolver(IReadOnlyList<IPEndPoint> servers, TimeSpan timeout, int attempts, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(clock);
        if (servers.Count == 0)
        {
            throw new ArgumentException("at least one server is needed", nameof(servers));
        }
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        _servers = servers.ToArray();
        Timeout = timeout;
        Attempts = attempts;
        _cache = new DnsCache(clock);
    }

    public IReadOnlyList<IPEndPoint> Servers => _servers;

    /// <summary>How long one server is given to answer one query.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>How many rounds over the servers a query makes before it gives up.</summary>
    public int Attempts { get; }

    internal int CachedCount => _cache.Count;

    /// <summary>
    /// Servers from a resolv.conf ("nameserver" lines, port 53; options timeout:N attempts:N honoured);
    /// no usable nameserver -> 127.0.0.1:53 as glibc does.
    /// </summary>
    public static DnsResolver FromResolvConf(string path = "/etc/resolv.conf")
    {
        ResolvConf conf = ResolvConf.Load(path);
        return new DnsResolver(conf.Servers, conf.Timeout, conf.Attempts);
    }

    /// <summary>The MX records of a domain, lowest preference first.</summary>
    public async Task<DnsAnswer<MxRecord>> QueryMxAsync(string domain, CancellationToken cancellationToken = default)
    {
        DnsResult result = await ResolveAsync(domain, DnsRecordType.MX, cancellationToken);
        MxRecord[] records = result.Records.Select(r => (MxRecord)r.Data!).OrderBy(mx => mx.Preference).ToArray();
        return new DnsAnswer<MxRecord>(result.Status, records, result.Ttl);
    }

    /// <summary>The A (InterNetwork) or AAAA (InterNetworkV6) records of a host.</summary>
    public async Task<DnsAnswer<IPAddress>> QueryAddressesAsync(
        string host, AddressFamily family, CancellationToken cancellationToken = default)
    {
        DnsRecordType type = family switch
        {
            AddressFamily.InterNetwork => DnsRecordType.A,
            AddressFamily.InterNetworkV6 => DnsRecordType.AAAA,
            _ => throw new ArgumentOutOfRangeException(nameof(family), family, "InterNetwork or InterNetworkV6"),
        };
        DnsResult result = await ResolveAsync(host, type, cancellationToken);
        return new DnsAnswer<IPAddress>(result.Status, result.Records.Select(r => (IPAddress)r.Data!).ToArray(), result.Ttl);
    }

    /// <summary>The TXT records of a name, each record's strings concatenated.</summary>
    public Task<DnsAnswer<string>> QueryTxtAsync(string name, CancellationToken cancellationToken = default) =>
        QueryNamesAsync(name, DnsRecordType.TXT, cancellationToken);

    /// <summary>The NS host names of a domain.</summary>
    public Task<DnsAnswer<string>> QueryNsAsync(string domain, CancellationToken cancellationToken = default) =>
        QueryNamesAsync(domain, DnsRecordType.NS, cancellationToken);

    /// <summary>The PTR names of an address (IPv4-mapped IPv6 addresses are looked up as IPv4).</summary>
    public Task<DnsAnswer<string>> QueryPtrAsync(IPAddress address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        return QueryNamesAsync(ReverseName.For(address), DnsRecordType.PTR, cancellationToken);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _lifetime.Cancel();
        _lifetime.Dispose();
        _cache.Clear();
    }

    private async Task<DnsAnswer<string>> QueryNamesAsync(string name, DnsRecordType type, CancellationToken cancellationToken)
    {
        DnsResult result = await ResolveAsync(name, type, cancellationToken);
        return new DnsAnswer<string>(result.Status, result.Records.Select(r => (string)r.Data!).ToArray(), result.Ttl);
    }

    /// <summary>A name that cannot be queried (see <see cref="DnsName.Normalize"/>) is a FormatError answer.</summary>
    internal async Task<DnsResult> ResolveAsync(string name, DnsRecordType type, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        string? normalized = DnsName.Normalize(name);
        if (normalized is null)
        {
            return DnsResult.Failure(DnsStatus.FormatError);
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        try
        {
            return await ResolveNormalizedAsync(normalized, type, MaxCnameRequeries, linked.Token);
        }
        catch (OperationCanceledException) when (_disposed && !cancellationToken.IsCancellationRequested)
        {
            throw new ObjectDisposedException(nameof(DnsResolver));
        }
    }

    private async Task<DnsResult> ResolveNormalizedAsync(
        string name, DnsRecordType type, int requeriesLeft, CancellationToken cancellationToken)
    {
        if (_cache.TryGet(name, type, out DnsResult cached))
        {
            Count(type, cached.Status, "cache");
            return cached;
        }
        long started = Stopwatch.GetTimestamp();
        (DnsMessage? reply, DnsStatus failure) = await AskServersAsync(new DnsQuestion(name, type), cancellationToken);
        EdgeMetrics.DnsDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, EdgeMetrics.Tag("type", TypeName(type)));
        if (reply is null)
        {
            Count(type, failure, "server");
            return DnsResult.Failure(failure);
        }
        (DnsResult result, string? dangling) = DnsReplyInterpreter.Interpret(reply, name, type, MaxCacheTtl);
        if (dangling is not null)
        {
            if (requeriesLeft == 0)
            {
                return DnsResult.Failure(DnsStatus.ServFail);
            }
            DnsResult target = await ResolveNormalizedAsync(dangling, type, requeriesLeft - 1, cancellationToken);
            result = target with { Ttl = target.Ttl < result.Ttl ? target.Ttl : result.Ttl };
        }
        if (result.Status is DnsStatus.Ok or DnsStatus.NoData or DnsStatus.NxDomain)
        {
            _cache.Add(name, type, result);
        }
        Count(type, result.Status, "server");
        return result;
    }

    private static void Count(DnsRecordType type, DnsStatus status, string source) =>
        EdgeMetrics.DnsLookups.Add(1, EdgeMetrics.Tag("type", TypeName(type)), EdgeMetrics.Tag("status", StatusName(status)),
            EdgeMetrics.Tag("source", source));

    // Constant strings: a tag value must cost no allocation.
    private static string TypeName(DnsRecordType type) => type switch
    {
        DnsRecordType.A => "A",
        DnsRecordType.AAAA => "AAAA",
        DnsRecordType.MX => "MX",
        DnsRecordType.TXT => "TXT",
        DnsRecordType.PTR => "PTR",
        DnsRecordType.NS => "NS",
        DnsRecordType.CNAME => "CNAME",
        _ => "other",
    };

    private static string StatusName(DnsStatus status) => status switch
    {
        DnsStatus.Ok => "ok",
        DnsStatus.NoData => "nodata",
        DnsStatus.NxDomain => "nxdomain",
        DnsStatus.ServFail => "servfail",
        DnsStatus.Refused => "refused",
        DnsStatus.Timeout => "timeout",
        _ => "formerr",
    };

    /// <summary>
    /// glibc's order: each attempt goes over the servers in turn, each given <see cref="Timeout"/>. A server
    /// that answered SERVFAIL, REFUSED, FORMERR or garbage, or whose port is closed, is not asked again for
    /// this query; one that timed out is, in the next attempt. The first NOERROR or NXDOMAIN reply wins.
    /// </summary>
    private async Task<(DnsMessage? Reply, DnsStatus Failure)> AskServersAsync(
        DnsQuestion question, CancellationToken cancellationToken)
    {
        DnsStatus? replied = null;
        bool timedOut = false;
        bool[] finished = new bool[_servers.Length];
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            for (int i = 0; i < _servers.Length; i++)
            {
                if (finished[i])
                {
                    continue;
                }
                bool edns = true;
                while (true)
                {
                    DnsExchange exchange = await DnsTransport.ExchangeAsync(_servers[i], question, edns, Timeout, cancellationToken);
                    if (exchange.Reply is { } reply)
                    {
                        switch (reply.ResponseCode)
                        {
                            case DnsResponseCode.NoError or DnsResponseCode.NameError:
                                return (reply, default);
                            case DnsResponseCode.FormatError when edns && !reply.HasOpt:
                                // RFC 6891 §7: a server that predates EDNS rejects the OPT record; ask it plainly.
                                edns = false;
                                continue;
                            case DnsResponseCode.FormatError:
                                replied = DnsStatus.FormatError;
                                break;
                            case DnsResponseCode.Refused:
                                replied = DnsStatus.Refused;
                                break;
                            default:
                                replied = DnsStatus.ServFail;
                                break;
                        }
                        finished[i] = true;
                    }
                    else if (exchange.Failure == DnsExchangeFailure.Timeout)
                    {
                        timedOut = true;
                    }
                    else
                    {
                        if (exchange.Failure == DnsExchangeFailure.Malformed)
                        {
                            replied = DnsStatus.FormatError;
                        }
                        finished[i] = true;
                    }
                    break;
                }
            }
        }
        return (null, replied ?? (timedOut ? DnsStatus.Timeout : DnsStatus.ServFail));
    }
}
