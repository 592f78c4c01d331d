using Edge.Logging;
using Edge.Tables.Sql;

namespace Edge.Tables.Ldap;

/// <summary>An ldap: table's configuration file, with ldap_table(5)'s defaults.</summary>
internal sealed record LdapSettings(string[] Servers, int Port, string SearchBase, string Filter, SearchScope Scope, string[] Terminal,
    string[] Leaf, string[] Regular, string[] Special, bool Bind, string BindDn, string BindPassword, int Version, TimeSpan Timeout,
    int RecursionLimit, int ExpansionLimit, int SizeLimit, DereferenceAliases Dereference, bool ChaseReferrals)
{
    /// <summary>Every attribute a search asks for: terminal, leaf, regular, then special, as Postfix lists them.</summary>
    public IEnumerable<string> Attributes => Terminal.Concat(Leaf).Concat(Regular).Concat(Special);

    /// <exception cref="TableException">A value is wrong, or asks for what Edge does not implement.</exception>
    public static LdapSettings From(TableConfigFile file)
    {
        var servers = new List<string>();
        int port = file.GetInt("server_port", 389, min: 1);
        foreach (string host in Words(file.Get("server_host", "localhost")))
        {
            if (host.StartsWith("ldaps:", StringComparison.OrdinalIgnoreCase) || host.StartsWith("ldapi:", StringComparison.OrdinalIgnoreCase))
            {
                throw file.Error("server_host", $"{host}: Edge does not implement LDAP over TLS or local sockets yet; use ldap://");
            }
            servers.Add(host.StartsWith("ldap://", StringComparison.OrdinalIgnoreCase) ? host[7..].TrimEnd('/') : host);
        }
        if (Bool(file, "start_tls", false))
        {
            throw file.Error("start_tls", "Edge does not implement LDAP over TLS yet: the directory would be asked in clear while this says it is not");
        }
        string bind = file.Get("bind", "yes").ToLowerInvariant();
        if (bind is not ("yes" or "no" or "true" or "false" or "1" or "0"))
        {
            throw file.Error("bind", bind == "sasl" ? "Edge does not implement SASL binds yet" : $"expected yes or no, not \"{bind}\"");
        }
        foreach (string ignored in new[] { "cache", "cache_expiry", "cache_size", "debuglevel" })
        {
            if (file.Get(ignored) is not null)
            {
                // As Postfix, which no longer has the client cache these set; debuglevel is the C library's tracing.
                MailLog.Warning($"{file.Path}: {ignored} has no effect in Edge (the table cache is edge_table_cache_time)");
            }
        }
        SearchScope scope = file.Get("scope", "sub").ToLowerInvariant() switch
        {
            "one" => SearchScope.OneLevel,
            "base" => SearchScope.Base,
            "sub" => SearchScope.Subtree,
            string other => throw file.Error("scope", $"expected sub, one or base, not \"{other}\""),
        };
        int expansionLimit = file.GetInt("expansion_limit", 0);
        int dereference = file.GetInt("dereference", 0);
        if (dereference > 3)
        {
            throw file.Error("dereference", $"expected 0, 1, 2 or 3, not {dereference}");
        }
        return new LdapSettings([.. servers], port, file.Get("search_base", ""), file.Get("query_filter", "(mailacceptinggeneralid=%s)"), scope,
            Words(file.Get("terminal_result_attribute", "")), Words(file.Get("leaf_result_attribute", "")),
            Words(file.Get("result_attribute", "maildrop")), Words(file.Get("special_result_attribute", "")),
            bind is "yes" or "true" or "1", file.Get("bind_dn", ""), file.Get("bind_pw", ""), file.GetInt("version", 2, min: 2),
            TimeSpan.FromSeconds(file.GetInt("timeout", 10)), file.GetInt("recursion_limit", 1000, min: 1), expansionLimit,
            file.GetInt("size_limit", expansionLimit), (DereferenceAliases)dereference, Bool(file, "chase_referrals", false));
    }

    private static string[] Words(string list) => list.Split([' ', '\t', ',', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries);

    private static bool Bool(TableConfigFile file, string name, bool fallback) => file.Get(name)?.ToLowerInvariant() switch
    {
        null => fallback,
        "yes" or "true" or "1" => true,
        "no" or "false" or "0" => false,
        string other => throw file.Error(name, $"expected yes or no, not \"{other}\""),
    };
}
