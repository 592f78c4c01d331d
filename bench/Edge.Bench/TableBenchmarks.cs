using BenchmarkDotNet.Attributes;
using Edge.Tables;
using Edge.Tests.Support;

namespace Edge.Bench;

/// <summary>
/// One lookup in an ldap: and a pgsql: table, against Debian's slapd and PostgreSQL started for the run (the tests'
/// own servers): with the table cache on (a key asked again within edge_table_cache_time is answered from memory)
/// and off (every lookup is a round trip to the server). Lookups per second are 1 / Mean.
/// </summary>
[MemoryDiagnoser]
public class TableBenchmarks
{
    private SlapdServer? _slapd;
    private PostgresServer? _postgres;
    private TempDirectory? _directory;
    private ILookupTable? _ldapCached;
    private ILookupTable? _ldapUncached;
    private ILookupTable? _pgsqlCached;
    private ILookupTable? _pgsqlUncached;

    [GlobalSetup]
    public async Task Setup()
    {
        _slapd = await SlapdServer.StartAsync("""
            dn: uid=alice,dc=edge,dc=test
            objectClass: inetOrgPerson
            objectClass: inetLocalMailRecipient
            uid: alice
            cn: Alice
            sn: Example
            mailLocalAddress: alice@edge.test
            mailRoutingAddress: alice@mbox.edge.test

            """);
        _postgres = await PostgresServer.StartAsync("CREATE TABLE users (email text PRIMARY KEY, dest text); INSERT INTO users VALUES ('alice@edge.test', 'alice@mbox.edge.test');");
        _directory = new TempDirectory();
        _directory.Write("ldap.cf", $"""
            server_host = 127.0.0.1:{_slapd.Port}
            search_base = dc=edge,dc=test
            version = 3
            bind_dn = {SlapdServer.AdminDn}
            bind_pw = {SlapdServer.AdminPassword}
            query_filter = (mailLocalAddress=%s)
            result_attribute = mailRoutingAddress
            """);
        _directory.Write("pgsql.cf", $"""
            hosts = 127.0.0.1:{_postgres.Port}
            user = postgres
            dbname = mail
            query = SELECT dest FROM users WHERE email = '%s'
            """);
        var cached = TableSettings.From(Edge.Config.MainConfig.Load(null)) with { Timeout = TimeSpan.FromSeconds(10), CacheTime = TimeSpan.FromHours(1), NegativeCacheTime = TimeSpan.FromHours(1), ConnectionLimit = 4 };
        var uncached = cached with { CacheTime = TimeSpan.Zero, NegativeCacheTime = TimeSpan.Zero };
        _ldapCached = Open($"ldap:{_directory.File("ldap.cf")}", cached);
        _ldapUncached = Open($"ldap:{_directory.File("ldap.cf")}", uncached);
        _pgsqlCached = Open($"pgsql:{_directory.File("pgsql.cf")}", cached);
        _pgsqlUncached = Open($"pgsql:{_directory.File("pgsql.cf")}", uncached);
        foreach (ILookupTable table in new[] { _ldapCached, _ldapUncached, _pgsqlCached, _pgsqlUncached })
        {
            if (await table.LookupAsync("alice@edge.test", CancellationToken.None) != "alice@mbox.edge.test")
            {
                throw new InvalidOperationException("the directory does not answer as set up");
            }
        }
    }

    private static ILookupTable Open(string reference, TableSettings settings) =>
        TableFactory.Open(reference, settings, out string? error) ?? throw new InvalidOperationException(error);

    [Benchmark]
    public ValueTask<string?> LdapCached() => _ldapCached!.LookupAsync("alice@edge.test", CancellationToken.None);

    [Benchmark]
    public ValueTask<string?> LdapUncached() => _ldapUncached!.LookupAsync("alice@edge.test", CancellationToken.None);

    [Benchmark]
    public ValueTask<string?> PgsqlCached() => _pgsqlCached!.LookupAsync("alice@edge.test", CancellationToken.None);

    [Benchmark]
    public ValueTask<string?> PgsqlUncached() => _pgsqlUncached!.LookupAsync("alice@edge.test", CancellationToken.None);

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _slapd!.DisposeAsync();
        await _postgres!.DisposeAsync();
        _directory!.Dispose();
    }
}
