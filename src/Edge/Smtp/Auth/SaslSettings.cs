using Edge.Config;
using Edge.Net;

namespace Edge.Smtp.Auth;

/// <summary>
/// SMTP AUTH on one listener (smtpd_sasl_auth_enable = yes, smtpd_sasl_type = dovecot): the auth server, what the
/// security options let through without and with TLS, who is not offered AUTH, and the limits and headers around it.
/// </summary>
internal sealed record SaslSettings(
    DovecotAuthClient Client,
    string Service,
    SaslProperties Forbidden,
    SaslProperties Required,
    SaslProperties TlsForbidden,
    SaslProperties TlsRequired,
    bool TlsAuthOnly,
    NetworkList Exceptions,
    int ResponseLimit,
    bool AuthenticatedHeader,
    bool BrokenClients,
    int RateLimit,
    IReadOnlyList<(string Name, bool Offered)> MechanismFilter)
{
    /// <summary>Null when AUTH is off; throws the configuration error for a type Edge cannot speak or an unknown option.</summary>
    /// <param name="tlsEnforced">TLS is required on the listener, which implies smtpd_tls_auth_only, as in Postfix.</param>
    public static SaslSettings? From(MainConfig config, Func<string, NetworkList> networks, bool tlsEnforced)
    {
        if (!config.GetBool("smtpd_sasl_auth_enable"))
        {
            return null;
        }
        string type = config.Get("smtpd_sasl_type");
        if (!type.Equals("dovecot", StringComparison.OrdinalIgnoreCase))
        {
            throw config.Error("smtpd_sasl_type", $"\"{type}\" is not supported by Edge: only dovecot (Dovecot's auth socket) is");
        }
        string path = config.Get("smtpd_sasl_path");
        if (path.Length == 0)
        {
            throw config.Error("smtpd_sasl_path", "is empty: name Dovecot's auth socket (private/auth, /path or inet:host:port)");
        }
        if (path.StartsWith("inet:", StringComparison.Ordinal)
            && (path.LastIndexOf(':') is var colon && colon <= 5 || !ushort.TryParse(path[(colon + 1)..], out ushort port) || port == 0))
        {
            throw config.Error("smtpd_sasl_path", $"\"{path}\" is not inet:host:port");
        }
        // As in Postfix: a relative path is under the queue directory ("private/auth").
        if (!path.StartsWith("inet:", StringComparison.Ordinal) && !path.StartsWith('/') && !path.StartsWith("unix:", StringComparison.Ordinal))
        {
            path = Path.Combine(Path.GetFullPath(config.Get("queue_directory")), path);
        }
        (SaslProperties forbidden, SaslProperties required) = Options(config, "smtpd_sasl_security_options");
        (SaslProperties tlsForbidden, SaslProperties tlsRequired) = Options(config, "smtpd_sasl_tls_security_options");
        return new SaslSettings(DovecotAuthClient.For(path), config.Get("smtpd_sasl_service"), forbidden, required, tlsForbidden, tlsRequired,
            config.GetBool("smtpd_tls_auth_only") || tlsEnforced, networks("smtpd_sasl_exceptions_networks"), Math.Max(1, config.GetInt("smtpd_sasl_response_limit")),
            config.GetBool("smtpd_sasl_authenticated_header"), config.GetBool("broken_sasl_auth_clients"), config.GetInt("smtpd_client_auth_rate_limit"),
            MechanismFilterOf(config));
    }

    /// <summary>
    /// smtpd_sasl_mechanism_filter: mechanism names, "!name" to leave one out, and static:rest (or any static: value)
    /// for every other; the first that matches decides, and a mechanism nothing matches is left out, as in Postfix.
    /// </summary>
    private static List<(string Name, bool Offered)> MechanismFilterOf(MainConfig config)
    {
        var filter = new List<(string, bool)>();
        foreach (string item in config.GetList("smtpd_sasl_mechanism_filter"))
        {
            bool offered = !item.StartsWith('!');
            string name = offered ? item : item[1..];
            if (name.Contains(':') && !name.StartsWith("static:", StringComparison.OrdinalIgnoreCase))
            {
                throw config.Error("smtpd_sasl_mechanism_filter", $"\"{item}\": Edge takes mechanism names and static: here, not lookup tables");
            }
            filter.Add((name.StartsWith("static:", StringComparison.OrdinalIgnoreCase) ? "*" : name, offered));
        }
        return filter;
    }

    /// <summary>smtpd_sasl_security_options: the no* options forbid a property, forward_secrecy and mutual_auth require one.</summary>
    private static (SaslProperties Forbidden, SaslProperties Required) Options(MainConfig config, string name)
    {
        var forbidden = SaslProperties.None;
        var required = SaslProperties.None;
        foreach (string option in config.GetList(name))
        {
            switch (option.ToLowerInvariant())
            {
                case "noplaintext": forbidden |= SaslProperties.Plaintext; break;
                case "noactive": forbidden |= SaslProperties.Active; break;
                case "nodictionary": forbidden |= SaslProperties.Dictionary; break;
                case "noanonymous": forbidden |= SaslProperties.Anonymous; break;
                case "forward_secrecy": required |= SaslProperties.ForwardSecrecy; break;
                case "mutual_auth": required |= SaslProperties.MutualAuth; break;
                default:
                    throw config.Error(name, $"unknown option \"{option}\" (noplaintext, noactive, nodictionary, noanonymous, forward_secrecy, mutual_auth)");
            }
        }
        return (forbidden, required);
    }

    /// <summary>The mechanisms a session offers, as the EHLO AUTH line lists them: those the options for its TLS state allow.</summary>
    public string Offered(IReadOnlyList<SaslMechanism> mechanisms, bool tls)
    {
        (SaslProperties forbidden, SaslProperties required) = tls ? (TlsForbidden, TlsRequired) : (Forbidden, Required);
        return string.Join(' ', mechanisms.Where(m => (m.Properties & required) == required && (m.Properties & forbidden) == 0
            && MechanismFilter.FirstOrDefault(f => f.Name == "*" || f.Name.Equals(m.Name, StringComparison.OrdinalIgnoreCase)) is { Name: not null } rule
            && rule.Offered).Select(m => m.Name));
    }
}
