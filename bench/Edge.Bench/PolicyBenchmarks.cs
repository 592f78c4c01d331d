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
/// recipient. Strings are made here by design: the request is the boundary to the script.
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
    private readonly Peer _peer = Peer.FromEndPoint(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("192.0.2.9"), 40000));
    private readonly byte[] _sender = "sender@example.org"u8.ToArray();
    private readonly byte[] _recipient = "user@example.com"u8.ToArray();
    private readonly AddressClassifier _classifier = new(new DomainSet(["example.com"]), new DomainSet([]), new DomainSet([]), new DomainSet([]));

    [GlobalSetup]
    public async Task Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), "edge-bench-policy-" + Guid.NewGuid().ToString("N") + ".js");
        await File.WriteAllTextAsync(_path, Script);
        _policy = PolicyScript.Load(_path, ScriptLimits.From(Edge.Config.MainConfig.Load(null)), new MemoryPolicyStore(), Edge.Dns.DnsResolver.FromResolvConf(), out string? error) ?? throw new InvalidOperationException(error);
    }

    [Benchmark]
    public Task<string?> ScriptDecision()
    {
        var context = new CheckContext(_peer, false, "mail.client.example", _sender, _recipient, new Resolution(AddressClass.Local, false), null, _classifier);
        return _policy!.AskAsync(PolicyRequest.Build(context, Subject.Recipient), CancellationToken.None);
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);
}
