using BenchmarkDotNet.Attributes;
using Edge.Mail;
using Edge.Resolve;
using Edge.Restrictions;
using Edge.Restrictions.Policy;
using Edge.Restrictions.Policy.Store;

namespace Edge.Bench;

/// <summary>
/// One check_policy_script decision at RCPT TO: the policy request built from the session, handed to a policy
/// thread, the script run in the thread's Jint engine, and the answer back — what a JavaScript policy adds to each
/// recipient. Strings are made here by design: the request is the boundary to the script. GreylistDecision is the
/// shipped policies/greylist.js for a triplet already let through: an async function awaiting a store.get and
/// nothing else on the default store (FasterKV): a triplet that passed is one read.
/// </summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private const string Script = """
        function policy(request) {
            if (/^\d+\.\d+\.\d+\.\d+$/.test(request.helo_name)) {
                return "REJECT bare address";
            }
            return request.recipient.indexOf("spam") === 0 ? "REJECT no" : "DUNNO";
        }
        """;

    private string _path = "";
    private PolicyScript? _policy;
    private PolicyScript? _greylist;
    private string _storeDirectory = "";
    private FasterPolicyStore? _store;
    private readonly Peer _peer = Peer.FromEndPoint(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("192.0.2.9"), 40000));
    private readonly byte[] _sender = "sender@example.org"u8.ToArray();
    private readonly byte[] _recipient = "user@example.com"u8.ToArray();
    private readonly AddressClassifier _classifier = new(new DomainSet(["example.com"]), new DomainSet([]), new DomainSet([]), new DomainSet([]));

    [GlobalSetup]
    public async Task Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), "edge-bench-policy-" + Guid.NewGuid().ToString("N") + ".js");
        await File.WriteAllTextAsync(_path, Script);
        Edge.Config.MainConfig defaults = Edge.Config.MainConfig.Load(null);
        ScriptLimits limits = ScriptLimits.From(defaults);
        var tables = Edge.Tables.TableSettings.From(defaults);
        _policy = PolicyScript.Load(_path, limits, new MemoryPolicyStore(), Edge.Dns.DnsResolver.FromResolvConf(), tables, out string? error)
            ?? throw new InvalidOperationException(error);
        _storeDirectory = Path.Combine(Path.GetTempPath(), "edge-bench-store-" + Guid.NewGuid().ToString("N"));
        _store = FasterPolicyStore.Open(_storeDirectory, out error) ?? throw new InvalidOperationException(error);
        string greylist = Shipped("greylist.js");
        _greylist = PolicyScript.Load(greylist, limits, _store, Edge.Dns.DnsResolver.FromResolvConf(), tables, out error)
            ?? throw new InvalidOperationException(error);
        // The triplet was first seen an hour ago: the check below lets it through and marks it passed, as every decision measured finds it.
        await _store.SetAsync($"greylist/192.0.2/sender@example.org/user@example.com",
            (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000).ToString(System.Globalization.CultureInfo.InvariantCulture), 3600);
        if (await GreylistDecision() != "DUNNO")
        {
            throw new InvalidOperationException("the seeded triplet is not let through");
        }
    }

    [Benchmark]
    public Task<string?> ScriptDecision()
    {
        var context = new CheckContext(_peer, false, "mail.client.example", _sender, _recipient, new Resolution(AddressClass.Local, false), null, _classifier);
        return _policy!.AskAsync(PolicyRequest.Build(context, Subject.Recipient), CancellationToken.None);
    }

    [Benchmark]
    public Task<string?> GreylistDecision()
    {
        var context = new CheckContext(_peer, false, "mail.client.example", _sender, _recipient, new Resolution(AddressClass.Local, false), null, _classifier);
        return _greylist!.AskAsync(PolicyRequest.Build(context, Subject.Recipient), CancellationToken.None);
    }

    /// <summary>An example of policies/, found above the directory the benchmark runs from (BenchmarkDotNet builds it elsewhere).</summary>
    private static string Shipped(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, "policies", name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new FileNotFoundException($"policies/{name} not found above {AppContext.BaseDirectory}");
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        File.Delete(_path);
        await _store!.DisposeAsync();
        Directory.Delete(_storeDirectory, recursive: true);
    }
}
