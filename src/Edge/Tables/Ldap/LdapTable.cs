using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Edge.Logging;
using Edge.Net;
using Edge.Tables.Remote;
using Edge.Tables.Sql;

namespace Edge.Tables.Ldap;

/// <summary>
/// ldap:/etc/postfix/ldap-users.cf (ldap_table(5)), over LDAP spoken here (<see cref="LdapProtocol"/>), so that every
/// wait is asynchronous and bounded: the search (server_host, search_base, scope, query_filter with the key quoted as
/// RFC 2254 and RFC 2253 want, dereference, size_limit, timeout), the answer (result_attribute values through
/// result_format; special_result_attribute DNs and LDAP URLs followed up to recursion_limit deep;
/// terminal_result_attribute and leaf_result_attribute; expansion_limit), and the session (a simple bind with
/// bind_dn and bind_pw or none, version, chase_referrals) with TLS (<see cref="LdapTlsClient"/>). Connections are
/// pooled and bound once each. SASL binds and ldapi: are not implemented yet: start-up refuses them.
/// </summary>
internal sealed class LdapTable : RemoteTable
{
    private static readonly string[] Known =
    [
        "server_host", "server_port", "search_base", "query_filter", "result_format", "result_filter", "domain", "result_attribute",
        "special_result_attribute", "terminal_result_attribute", "leaf_result_attribute", "scope", "bind", "bind_dn", "bind_pw",
        "version", "timeout", "recursion_limit", "expansion_limit", "size_limit", "dereference", "chase_referrals",
        "start_tls", "tls_require_cert", "tls_ca_cert_file", "tls_ca_cert_dir", "tls_cert", "tls_key", "tls_cipher_suite", "tls_random_file",
        "cache", "cache_expiry", "cache_size", "debuglevel",
    ];

    private readonly LdapSettings _settings;
    private readonly QueryTemplates _templates;
    private readonly DomainFilter? _domains;
    private readonly LdapTlsClient _tls;
    private readonly TableConnections[] _servers;

    /// <summary>The servers referrals lead to, by host and port.</summary>
    private readonly ConcurrentDictionary<string, TableConnections> _referred = new(StringComparer.OrdinalIgnoreCase);

    private LdapTable(string reference, TableSettings settings, LdapSettings ldap, QueryTemplates templates, DomainFilter? domains,
        LdapTlsClient tls, (LdapServer Server, EndPoint Endpoint)[] servers) : base(reference, settings)
    {
        _settings = ldap;
        _templates = templates;
        _domains = domains;
        _tls = tls;
        _servers = [.. servers.Select(s => Connections(s.Server, s.Endpoint))];
    }

    private TableConnections Connections(LdapServer server, EndPoint endpoint) =>
        new(endpoint, Settings.ConnectionLimit, (stream, token) => _tls.SecureAsync(server, stream, token), BindAsync);

    /// <exception cref="TableException">The file is wrong, or asks for what Edge does not implement.</exception>
    public static LdapTable Open(string reference, string name, TableSettings settings)
    {
        TableConfigFile file = TableConfigFile.Read(name, Known);
        LdapSettings ldap = LdapSettings.From(file);
        string resultFormat = file.Get("result_format") ?? file.Get("result_filter", "%s");
        QueryTemplates templates = QueryTemplates.Parse(file, reference, [("search_base", ldap.SearchBase), ("query_filter", ldap.Filter)], resultFormat);
        try
        {
            // A filter that cannot parse fails at start-up, not at every lookup: tried with a key that has every part a query may ask for.
            LdapFilter.Write(new BerWriter(), templates.Query("user@a.b.c.d.e.f.g.h.example", Rfc2254Quote, 1) ?? "(objectClass=*)");
        }
        catch (FormatException e)
        {
            throw file.Error("query_filter", e.Message);
        }
        var servers = new List<(LdapServer, EndPoint)>();
        foreach (LdapServer server in ldap.Servers)
        {
            servers.Add((server, Endpoint(server) ?? throw file.Error("server_host", $"\"{server.Host}\" is not a host name or address")));
        }
        return new LdapTable(reference, settings, ldap, templates, DomainFilter.Parse(file, settings), new LdapTlsClient(ldap.Tls, file), [.. servers]);
    }

    private static EndPoint? Endpoint(LdapServer server) =>
        ServiceEndpoint.Parse(server.Host.Contains(':') ? $"[{server.Host}]:{server.Port}" : $"{server.Host}:{server.Port}", "/");

    protected override async Task<string?> QueryAsync(string key, CancellationToken cancellationToken)
    {
        key = key.ToLowerInvariant();
        if ((_domains is not null && !_domains.Allows(key))
            || _templates.Query(key, Rfc2253Quote, 0) is not { } searchBase
            || _templates.Query(key, Rfc2254Quote, 1) is not { } filter)
        {
            return null;
        }
        var search = new LdapSearch(searchBase, _settings.Scope, _settings.Dereference, _settings.SizeLimit, (int)_settings.Timeout.TotalSeconds,
            filter, [.. _settings.Attributes]);
        LdapSearchResult found = await SearchAsync(search, cancellationToken);
        if (found.ResultCode == LdapProtocol.NoSuchObject)
        {
            // A search base made from the key that does not exist is a key that is not there.
            return QueryTemplates.IsDynamic(_settings.SearchBase) ? null
                : throw Failed($"Search base '{searchBase}' not found: {LdapResultException.Name(found.ResultCode)}");
        }
        var result = new StringBuilder();
        var expansion = new ExpansionCount();
        await ValuesAsync(found, result, key, 1, expansion, cancellationToken);
        return result.Length == 0 ? null : result.ToString();
    }

    /// <summary>A search on the first server that answers; with chase_referrals, the servers it refers to asked too.</summary>
    private async Task<LdapSearchResult> SearchAsync(LdapSearch search, CancellationToken cancellationToken)
    {
        LdapSearchResult? result = null;
        Exception? failure = null;
        foreach (TableConnections server in _servers)
        {
            // As Postfix: timeout bounds each search on each server (its connection and bind too).
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_settings.Timeout);
            try
            {
                result = await server.UseAsync(connection => LdapProtocol.SearchAsync(connection, search, deadline.Token), deadline.Token);
                break;
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ProtocolViolationException
                                          or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                failure = e is OperationCanceledException ? new TimeoutException($"Timed out after {_settings.Timeout.TotalSeconds}s") : e;
            }
        }
        if (result is null)
        {
            throw Failed($"Search error: {failure!.Message}");
        }
        if (_settings.ChaseReferrals)
        {
            foreach (string url in result.References.Concat(result.ResultCode == LdapProtocol.Referral ? result.Referrals : []))
            {
                if (await ReferredAsync(url, search, cancellationToken) is { } referred)
                {
                    result.Entries.AddRange(referred.Entries);
                }
            }
            if (result.ResultCode == LdapProtocol.Referral)
            {
                result = result with { ResultCode = LdapProtocol.Success };
            }
        }
        if (result.ResultCode is not (LdapProtocol.Success or LdapProtocol.NoSuchObject))
        {
            throw Failed($"Search error {result.ResultCode}: {LdapResultException.Name(result.ResultCode)}{(result.Message.Length > 0 ? $": {result.Message}" : "")}");
        }
        return result;
    }

    /// <summary>The search continued where a referral points (RFC 4511 section 4.5.3), once: a referral there is not followed.</summary>
    private async Task<LdapSearchResult?> ReferredAsync(string url, LdapSearch search, CancellationToken cancellationToken)
    {
        if (!LdapUrl.TryParse(url, out LdapUrl? target) || target.Host.Length == 0 || ReferredServer(url, target.Host) is not { } referred
            || Endpoint(referred) is not { } endpoint)
        {
            MailLog.Warning($"{Reference}: referral {url} cannot be followed");
            return null;
        }
        TableConnections server = _referred.GetOrAdd(url[..(url.IndexOf('/', 8) is > 0 and var slash ? slash : url.Length)], _ => Connections(referred, endpoint));
        LdapSearch there = search with
        {
            Base = target.Dn.Length > 0 ? target.Dn : search.Base,
            Scope = search.Scope == SearchScope.OneLevel ? SearchScope.Base : search.Scope,
        };
        LdapSearchResult result = await server.UseAsync(connection => LdapProtocol.SearchAsync(connection, there, cancellationToken), cancellationToken);
        return result.ResultCode == LdapProtocol.Success ? result
            : throw Failed($"Search error {result.ResultCode} at referral {url}: {LdapResultException.Name(result.ResultCode)}");
    }

    /// <summary>The server a referral's URL names: host[:port], ldaps:// for TLS from the start.</summary>
    private static LdapServer? ReferredServer(string url, string host)
    {
        bool tls = url.StartsWith("ldaps://", StringComparison.OrdinalIgnoreCase);
        int colon = host.LastIndexOf(':');
        if (colon <= 0 || host.EndsWith(']'))
        {
            return new LdapServer(host.Trim('[', ']'), tls ? 636 : 389, tls);
        }
        return int.TryParse(host[(colon + 1)..], out int port) ? new LdapServer(host[..colon].Trim('[', ']'), port, tls) : null;
    }

    /// <summary>A new connection binds first, when bind = yes.</summary>
    private async Task BindAsync(TableConnection connection, CancellationToken cancellationToken)
    {
        if (!_settings.Bind)
        {
            return;
        }
        try
        {
            await LdapProtocol.BindAsync(connection, _settings.Version, _settings.BindDn, _settings.BindPassword, cancellationToken);
        }
        catch (LdapResultException e)
        {
            throw Failed($"Unable to bind to server {string.Join(' ', _settings.Servers.Select(s => $"{s.Host}:{s.Port}"))} with dn {_settings.BindDn}: {e.Message}");
        }
    }

    /// <summary>
    /// Postfix's dict_ldap_get_values(): each entry's attributes in the order the server sent them, each read as the
    /// requested attribute it is (or is a subtype of): terminal, leaf, regular values through result_format, special
    /// ones (DNs and URLs) followed.
    /// </summary>
    private async Task ValuesAsync(LdapSearchResult found, StringBuilder result, string key, int depth, ExpansionCount expansion,
        CancellationToken cancellationToken)
    {
        int entries = 0;
        string[] attributes = [.. _settings.Attributes];
        int terminalCount = _settings.Terminal.Length;
        int leafCount = _settings.Leaf.Length;
        int ordinaryCount = terminalCount + leafCount + _settings.Regular.Length;
        foreach (LdapEntry entry in found.Entries)
        {
            if (_settings.SizeLimit > 0 && ++entries > _settings.SizeLimit)
            {
                throw Failed($"Query size limit ({_settings.SizeLimit}) exceeded");
            }
            bool terminal = _settings.Terminal.Any(name => entry.Attributes.Any(a => Is(a.Name, name) && a.Values.Count > 0));
            bool leaf = terminal || !_settings.Special.Any(name => entry.Attributes.Any(a => Is(a.Name, name) && a.Values.Count > 0));
            foreach ((string name, List<string> values) in entry.Attributes)
            {
                int index = Array.FindIndex(attributes, requested => Is(name, requested));
                if (values.Count == 0 || index < 0)
                {
                    continue;
                }
                if (index < ordinaryCount || terminal)
                {
                    if ((terminal && index >= terminalCount) || (!leaf && index >= terminalCount && index < terminalCount + leafCount))
                    {
                        continue;
                    }
                    foreach (string value in values)
                    {
                        if (_templates.AddResult(result, value, key) && _settings.ExpansionLimit > 0 && ++expansion.Count > _settings.ExpansionLimit)
                        {
                            throw Failed($"Expansion limit exceeded for key: '{key}'");
                        }
                    }
                    continue;
                }
                if (depth >= _settings.RecursionLimit)
                {
                    throw Failed($"Recursion limit exceeded for special attribute {name}={values[0]}");
                }
                foreach (string value in values)
                {
                    if (await FollowAsync(value, cancellationToken) is { } followed)
                    {
                        await ValuesAsync(followed, result, key, depth + 1, expansion, cancellationToken);
                    }
                }
            }
        }
    }

    /// <summary>The entry a DN names, or what an LDAP URL asks for; null for one that is not there or asks for nothing of use.</summary>
    private async Task<LdapSearchResult?> FollowAsync(string value, CancellationToken cancellationToken)
    {
        LdapSearch search;
        if (LdapUrl.TryParse(value, out LdapUrl? url))
        {
            string[] attributes = url.Attributes.Length == 0 ? [.. _settings.Attributes]
                : [.. url.Attributes.Where(a => _settings.Attributes.Contains(a, StringComparer.OrdinalIgnoreCase))];
            if (attributes.Length == 0)
            {
                return null;
            }
            search = new LdapSearch(url.Dn, url.Scope, _settings.Dereference, _settings.SizeLimit, (int)_settings.Timeout.TotalSeconds, url.Filter, attributes);
        }
        else if (value.Contains("://", StringComparison.Ordinal))
        {
            throw Failed($"malformed URL {value}");
        }
        else
        {
            search = new LdapSearch(value, SearchScope.Base, _settings.Dereference, _settings.SizeLimit, (int)_settings.Timeout.TotalSeconds,
                "objectclass=*", [.. _settings.Attributes]);
        }
        LdapSearchResult found = await SearchAsync(search, cancellationToken);
        if (found.ResultCode == LdapProtocol.NoSuchObject)
        {
            MailLog.Warning($"{Reference}: DN {value} not found, skipping");
            return null;
        }
        return found;
    }

    /// <summary>Whether attribute <paramref name="name"/> is <paramref name="requested"/> or one of its subtypes (mail;lang-en), as Postfix's attrdesc_subtype().</summary>
    private static bool Is(string name, string requested) =>
        name.Equals(requested, StringComparison.OrdinalIgnoreCase)
        || (name.Length > requested.Length && name[requested.Length] == ';' && name.StartsWith(requested, StringComparison.OrdinalIgnoreCase));

    /// <summary>Postfix's rfc2254_quote(): what a filter reads as syntax, as \XX.</summary>
    private static string Rfc2254Quote(string text) => Escape(text, "*()\\");

    /// <summary>Postfix's rfc2253_quote(): what a DN reads as syntax (and white space), as \XX.</summary>
    private static string Rfc2253Quote(string text) => Escape(text, " \t\"#+,;<>\\");

    private static string Escape(string text, string special)
    {
        var quoted = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (special.Contains(c) || c == '\0')
            {
                quoted.Append('\\').Append(((int)c).ToString("X2"));
            }
            else
            {
                quoted.Append(c);
            }
        }
        return quoted.ToString();
    }

    /// <summary>How many values one lookup has produced, across the DNs and URLs it followed.</summary>
    private sealed class ExpansionCount
    {
        public int Count;
    }
}
