using Edge.Logging;
using Edge.Tables.Sql;

namespace Edge.Tables.Ldap;

/// <summary>A server of server_host: its name or address, its port, and whether it speaks TLS from the start (ldaps:).</summary>
internal sealed record LdapServer(string Host, int Port, bool Tls);

/// <summary>
/// How an ldap: table secures its connections: start_tls, and the certificates: tls_require_cert (the server's
/// certificate must be valid for its name and issued by a CA of tls_ca_cert_file or tls_ca_cert_dir, or the system's),
/// tls_cert and tls_key (the client's own).
/// </summary>
internal sealed record LdapTls(bool StartTls, bool RequireCert, string? CaFile, string? CaDirectory, string? CertFile, string? KeyFile);

/// <summary>An ldap: table's configuration file, with ldap_table(5)'s defaults.</summary>
internal sealed record LdapSettings(LdapServer[] Servers, LdapTls Tls, string SearchBase, string Filter, SearchScope Scope, string[] Terminal,
    string[] Leaf, string[] Regular, string[] Special, bool Bind, string BindDn, string BindPassword, int Version, TimeSpan Timeout,
    int RecursionLimit, int ExpansionLimit, int SizeLimit, DereferenceAliases Dereference, bool ChaseReferrals)
{
    /// <summary>Every attribute a search asks for: terminal, leaf, regular, then special, as Postfix lists them.</summary>
    public IEnumerable<string> Attributes => Terminal.Concat(Leaf).Concat(Regular).Concat(Special);

    /// <exception cref="TableException">A value is wrong, or asks for what Edge does not implement.</exception>
    public static LdapSettings From(TableConfigFile file)
    {
        var servers = new List<LdapServer>();
        int defaultPort = file.GetInt("server_port", 389, min: 1);
        foreach (string entry in Words(file.Get("server_host", "localhost")))
        {
            if (entry.StartsWith("ldapi:", StringComparison.OrdinalIgnoreCase))
            {
                throw file.Error("server_host", $"{entry}: Edge does not implement LDAP over local sockets yet; use ldap:// or ldaps://");
            }
            bool tls = entry.StartsWith("ldaps://", StringComparison.OrdinalIgnoreCase);
            string host = tls ? entry[8..] : entry.StartsWith("ldap://", StringComparison.OrdinalIgnoreCase) ? entry[7..] : entry;
            host = host.TrimEnd('/');
            int colon = host.LastIndexOf(':');
            int port = tls ? 636 : defaultPort;
            if (colon > 0 && host.IndexOf(']', StringComparison.Ordinal) < colon)
            {
                port = int.TryParse(host[(colon + 1)..], out int given) && given is > 0 and < 65536 ? given
                    : throw file.Error("server_host", $"\"{entry}\" has no valid port");
                host = host[..colon];
            }
            servers.Add(new LdapServer(host.Trim('[', ']'), port, tls));
        }
        if (file.Get("tls_cipher_suite") is { Length: > 0 })
        {
            throw file.Error("tls_cipher_suite", "Edge does not implement choosing the TLS ciphers of LDAP connections yet (the system's defaults apply)");
        }
        var tlsSettings = new LdapTls(Bool(file, "start_tls", false), Bool(file, "tls_require_cert", false), NonEmpty(file, "tls_ca_cert_file"),
            NonEmpty(file, "tls_ca_cert_dir"), NonEmpty(file, "tls_cert"), NonEmpty(file, "tls_key"));
        if ((tlsSettings.CertFile is null) != (tlsSettings.KeyFile is null))
        {
            throw file.Error(tlsSettings.CertFile is null ? "tls_key" : "tls_cert", "tls_cert and tls_key go together");
        }
        string bind = file.Get("bind", "yes").ToLowerInvariant();
        if (bind is not ("yes" or "no" or "true" or "false" or "1" or "0"))
        {
            throw file.Error("bind", bind == "sasl" ? "Edge does not implement SASL binds yet" : $"expected yes or no, not \"{bind}\"");
        }
        foreach (string ignored in new[] { "cache", "cache_expiry", "cache_size", "debuglevel", "tls_random_file" })
        {
            if (file.Get(ignored) is not null)
            {
                // As Postfix, which no longer has the client cache these set; debuglevel is the C library's tracing, and
                // tls_random_file its seed, which .NET's TLS does not take.
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
        return new LdapSettings([.. servers], tlsSettings, file.Get("search_base", ""), file.Get("query_filter", "(mailacceptinggeneralid=%s)"), scope,
            Words(file.Get("terminal_result_attribute", "")), Words(file.Get("leaf_result_attribute", "")),
            Words(file.Get("result_attribute", "maildrop")), Words(file.Get("special_result_attribute", "")),
            bind is "yes" or "true" or "1", file.Get("bind_dn", ""), file.Get("bind_pw", ""), file.GetInt("version", 2, min: 2),
            TimeSpan.FromSeconds(file.GetInt("timeout", 10)), file.GetInt("recursion_limit", 1000, min: 1), expansionLimit,
            file.GetInt("size_limit", expansionLimit), (DereferenceAliases)dereference, Bool(file, "chase_referrals", false));
    }

    private static string? NonEmpty(TableConfigFile file, string name) => file.Get(name) is { Length: > 0 } value ? value : null;

    private static string[] Words(string list) => list.Split([' ', '\t', ',', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries);

    private static bool Bool(TableConfigFile file, string name, bool fallback) => file.Get(name)?.ToLowerInvariant() switch
    {
        null => fallback,
        "yes" or "true" or "1" => true,
        "no" or "false" or "0" => false,
        string other => throw file.Error(name, $"expected yes or no, not \"{other}\""),
    };
}
