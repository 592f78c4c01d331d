
namespace Edge.Config;

/// <summary>The defaults of myhostname and mydomain, computed as Postfix computes them.</summary>
static class HostDefaults
{
    const string DefaultDomain = "localdomain";

    /// <summary>The machine's name; Postfix makes a name without a dot fully qualified with ".localdomain".</summary>
    public static string MachineHostName { get; } = Qualify(System.Net.Dns.GetHostName(), () => DefaultDomain);

    /// <summary>myhostname: a short machine name is qualified with mydomain when main.cf sets that, as Postfix does.</summary>
    public static string MyHostname(MainConfig config) =>
        config.IsSet("mydomain") ? Qualify(System.Net.Dns.GetHostName(), () => config.Get("mydomain")) : MachineHostName;

    /// <summary>mydomain: myhostname without its first label, or "localdomain" when myhostname has no dot.</summary>
    public static string MyDomain(MainConfig config) => DomainOf(config.Get("myhostname"));

    public static string DomainOf(string hostname)
    {
        var dot = hostname.IndexOf('.');
        return dot < 0 ? DefaultDomain : hostname[(dot + 1)..];
    }

    // The domain is looked up only when needed, so that "mydomain = $myhostname" works on a machine whose name has a dot.
    static string Qualify(string name, Func<string> domain) => name.Contains('.') ? name : $"{name}.{domain()}";
}
