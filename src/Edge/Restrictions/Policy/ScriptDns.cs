using System.Net;
using System.Net.Sockets;
using Edge.Dns;
using Jint;
using Jint.Native;
using Jint.Runtime;
using Jint.Runtime.Interop;

namespace Edge.Restrictions.Policy;

/// <summary>
/// The <c>dns</c> object of policy scripts: <c>await dns.resolve(name, type)</c> asks Edge's resolver (and its cache)
/// as Node's dns.promises.resolve does — type A or AAAA gives addresses, MX gives <c>{priority, exchange}</c> objects,
/// lowest first, TXT gives each record's text, and PTR takes an address and gives its names. A name that does not
/// exist, or has no record of the type, gives an empty array; a lookup that fails (timeout, SERVFAIL) is an Error the
/// script may catch. The call holds no thread while it waits.
/// </summary>
internal static class ScriptDns
{
    private static readonly string[] Types = ["A", "AAAA", "MX", "TXT", "PTR"];

    public static JsObject Create(Engine engine, DnsResolver resolver, ScriptAwaits awaits)
    {
        var dns = new JsObject(engine);
        dns.Set("resolve", new ClrFunction(engine, "resolve", (_, a) =>
        {
            string name = a.Length > 0 ? a[0].ToString() : "";
            string type = a.Length > 1 && !a[1].IsUndefined() ? a[1].ToString().ToUpperInvariant() : "A";
            return type switch
            {
                "A" or "AAAA" => awaits.Promise(Lookup(resolver.QueryAddressesAsync(name, type == "A" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6), name, type),
                    addresses => Array(engine, addresses.Select(address => (JsValue)address.ToString()))),
                "MX" => awaits.Promise(Lookup(resolver.QueryMxAsync(name), name, type), records => Array(engine, records.Select(mx =>
                {
                    var record = new JsObject(engine);
                    record.Set("priority", mx.Preference);
                    record.Set("exchange", mx.Exchange);
                    return (JsValue)record;
                }))),
                "TXT" => awaits.Promise(Lookup(resolver.QueryTxtAsync(name), name, type), texts => Array(engine, texts.Select(text => (JsValue)text))),
                "PTR" when IPAddress.TryParse(name.Trim('[', ']'), out IPAddress? address) =>
                    awaits.Promise(Lookup(resolver.QueryPtrAsync(address), name, type), names => Array(engine, names.Select(n => (JsValue)n))),
                "PTR" => throw new JavaScriptException(engine.Intrinsics.TypeError, $"dns.resolve: PTR takes an address, not \"{name}\""),
                _ => throw new JavaScriptException(engine.Intrinsics.TypeError, $"dns.resolve: type \"{type}\" is not one of {string.Join(", ", Types)}"),
            };
        }, 2));
        return dns;
    }

    /// <summary>The records found; none for a name or type that does not exist; a failure otherwise.</summary>
    private static async ValueTask<IReadOnlyList<T>> Lookup<T>(Task<DnsAnswer<T>> query, string name, string type)
    {
        DnsAnswer<T> answer = await query;
        return answer.Status switch
        {
            DnsStatus.Ok => answer.Records,
            DnsStatus.NoData or DnsStatus.NxDomain => [],
            _ => throw new InvalidOperationException($"dns.resolve: {name} {type}: {answer.Status}"),
        };
    }

    private static JsArray Array(Engine engine, IEnumerable<JsValue> values) => new(engine, [.. values]);
}
