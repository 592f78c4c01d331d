using Edge.Config;

namespace Edge.Hosting;

/// <summary>
/// The honesty rule, at start-up and reload: a parameter Edge does not implement yet, set to other than its default
/// in main.cf or a master.cf -o option, is refused when it would change what is accepted, filtered, authenticated,
/// encrypted or rewritten, and warned about otherwise; a master.cf service Edge does not implement is refused too
/// (edge_unimplemented_parameters = warn starts anyway, with a warning for each). Mail the configuration could never
/// deliver (no qmgr, a transport master.cf lacks) is foretold.
/// </summary>
internal static class ConfigurationCheck
{
    /// <summary>Warns through <paramref name="warn"/>; each refusal goes to <paramref name="refused"/>, and checking goes on.</summary>
    public static void Run(MainConfig main, MasterConfig master, Action<string> warn, Action<ConfigException> refused)
    {
        bool refuse = main.Get("edge_unimplemented_parameters").Equals("refuse", StringComparison.OrdinalIgnoreCase);
        Parameters(main.Unimplemented(), refuse, warn, refused);
        foreach (MasterService service in master.Services.Where(s => s.Overrides.Count > 0))
        {
            Parameters(service.ConfigFrom(main).Unimplemented(service.Overrides.Select(o => o.Key)), refuse, warn, refused);
        }
        foreach (MasterService service in master.Services)
        {
            string where = $"{service.File}, line {service.Line}: service {service.Name}";
            if (service.Role == MasterServiceRole.Other)
            {
                string what = $"command \"{service.Command}\" ({service.Type.ToString().ToLowerInvariant()}) is not implemented by Edge";
                if (refuse)
                {
                    refused(new ConfigException(service.File, service.Line, null,
                        $"service {service.Name}: {what}; remove the line, or set edge_unimplemented_parameters = warn to start without it"));
                }
                else
                {
                    warn($"{where}: {what}: nothing runs it");
                }
            }
            else if (service.Role == MasterServiceRole.Internal && service.Command is not ("tlsproxy" or "pickup") && service.Overrides.Count > 0)
            {
                // Edge's cleanup, qmgr, verify … are one each, in its process, with main.cf's settings: a second cleanup
                // with other header_checks (Postfix's content filter set-ups) does not exist, so its options would do nothing.
                string what = $"-o {service.Overrides[0].Key}={service.Overrides[0].Value}: {service.Command} is built into Edge " +
                    "and runs with main.cf's settings, so options on its master.cf line are not applied";
                if (refuse)
                {
                    refused(new ConfigException(service.File, service.Line, null,
                        $"service {service.Name}: {what}; set it in main.cf, or set edge_unimplemented_parameters = warn to start without it"));
                }
                else
                {
                    warn($"{where}: {what}");
                }
            }
        }
        Routes(main, master, warn);
        NotifyClasses(main, warn);
        VerifyMap(main, warn);
        TimeZone(main, warn);
        foreach (MasterService service in master.Listeners)
        {
            MainConfig config = service.ConfigFrom(main);
            if (config.GetBool("smtpd_tls_req_ccert") && !config.GetBool("smtpd_tls_wrappermode")
                && !config.Get("smtpd_tls_security_level").Equals("encrypt", StringComparison.OrdinalIgnoreCase))
            {
                warn($"{service.File}, line {service.Line}: service {service.Name}: smtpd_tls_req_ccert: Can't require client certs unless TLS is required");
            }
            CipherExclusions(config, warn);
            if (service.Command == "postscreen")
            {
                ScreenTls(main, master, config, service, warn);
            }
        }
    }

    /// <summary>
    /// postscreen's own SMTP engine (enforce actions, deep protocol tests) offers STARTTLS when postscreen_tls_security_level
    /// says so, and tlsproxy does the handshake. Without a tlsproxy that serves, Postfix answers STARTTLS with 454: said
    /// at start-up, since a client the engine holds back then talks to it in clear (or, with encrypt, cannot go on).
    /// </summary>
    private static void ScreenTls(MainConfig main, MasterConfig master, MainConfig config, MasterService service, Action<string> warn)
    {
        bool engine = new[] { "postscreen_pipelining_enable", "postscreen_non_smtp_command_enable", "postscreen_bare_newline_enable" }.Any(config.GetBool)
            || new[] { "postscreen_greet_action", "postscreen_dnsbl_action", "postscreen_denylist_action" }
                .Any(name => config.Get(name).Equals("enforce", StringComparison.OrdinalIgnoreCase));
        if (!engine || config.Get("postscreen_tls_security_level").ToLowerInvariant() is not ("may" or "encrypt"))
        {
            return;
        }
        string name = config.Get("tlsproxy_service_name");
        string? why = EdgeServer.TlsProxy(master, config) is not { } tlsproxy ? $"master.cf has no \"{name} unix - - n - 0 tlsproxy\" line"
            : tlsproxy.ConfigFrom(main).Get("tlsproxy_tls_security_level").ToLowerInvariant() is not ("may" or "encrypt")
                ? $"service {name}: tlsproxy_tls_security_level disables TLS"
                : null;
        if (why is not null)
        {
            warn($"{service.File}, line {service.Line}: service {service.Name}: postscreen_tls_security_level offers STARTTLS, but {why}: " +
                "postscreen answers STARTTLS with 454 4.7.0 TLS not available due to local problem");
        }
    }

    /// <summary>
    /// A cipher exclusion that names nothing this OpenSSL offers excludes nothing (such a cipher cannot be negotiated
    /// anyway: RC4, EXPORT and DES are gone from OpenSSL 3), but it may be a misspelt name of one that can.
    /// </summary>
    private static void CipherExclusions(MainConfig config, Action<string> warn)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        foreach (string name in Smtp.Tls.ServerTlsSettings.ExclusionParameters(enforced: true))
        {
            foreach (string token in Smtp.Tls.ServerTlsSettings.Exclusions(config, name).Where(t => !"!+-@".Contains(t[0])))
            {
                if (Smtp.Tls.OpenSslCipherList.Expand(token) is null)
                {
                    warn(config.Error(name, $"\"{token}\" names no TLS 1.2 cipher this OpenSSL offers: it excludes nothing").Message);
                }
            }
        }
    }

    /// <summary>
    /// address_verify_map: Edge keeps a persistent cache in edge_policy_store (so a fleet on Redis shares it), not in
    /// the file named; the cache is as persistent as asked, so this is a warning, not a refusal.
    /// </summary>
    private static void VerifyMap(MainConfig main, Action<string> warn)
    {
        if (main.IsSet("address_verify_map") && main.Get("address_verify_map").Length > 0)
        {
            warn(main.Error("address_verify_map", $"Edge keeps the address verification cache in edge_policy_store " +
                $"({main.Get("edge_policy_store")}), not in {main.Get("address_verify_map")}; leave it unset, or empty to keep the cache in memory").Message);
        }
    }

    /// <summary>
    /// import_environment gives Postfix's daemons their TZ. Edge's server is one process whose clock (log lines, Received:
    /// headers, From_ lines) keeps the time zone it was started with: a TZ the list drops or sets otherwise is said.
    /// </summary>
    private static void TimeZone(MainConfig main, Action<string> warn)
    {
        string? started = Environment.GetEnvironmentVariable("TZ");
        string? imported = Unix.ImportedEnvironment.From(main).Variables().GetValueOrDefault("TZ");
        if (imported != started)
        {
            warn(main.Error("import_environment", $"TZ would be {(imported is null ? "unset" : $"\"{imported}\"")} in the server's environment, " +
                $"but Edge's times keep the zone it was started with ({(started is null ? "TZ unset" : $"TZ=\"{started}\"")}); " +
                "start Edge with the TZ you want").Message);
        }
    }

    /// <summary>notify_classes: every class but "data" (a critical data file Edge does not have) is implemented.</summary>
    private static void NotifyClasses(MainConfig main, Action<string> warn)
    {
        if (main.GetList("notify_classes").Any(c => c.Equals("data", StringComparison.OrdinalIgnoreCase)))
        {
            warn(main.Error("notify_classes", "class data is not implemented by Edge (it has none of the data files it reports on): " +
                "the postmaster gets no notice of it").Message);
        }
    }

    private static void Parameters(IEnumerable<(string Name, string File, int Line, ParameterSupport Support)> unimplemented,
        bool refuse, Action<string> warn, Action<ConfigException> refused)
    {
        foreach ((string name, string file, int line, ParameterSupport support) in unimplemented)
        {
            if (support == ParameterSupport.Refused && refuse)
            {
                refused(new ConfigException(file, line, name, "is not implemented by Edge yet, and its value would change what is " +
                    "accepted, filtered, authenticated, encrypted or rewritten; remove it, or set edge_unimplemented_parameters = warn to start without it"));
            }
            else
            {
                warn($"{file}, line {line}: parameter {name}: not implemented by Edge yet: the setting has no effect");
            }
        }
    }

    /// <summary>Mail that would wait in the queue for good: without a qmgr nothing is delivered, without a transport its mail.</summary>
    private static void Routes(MainConfig main, MasterConfig master, Action<string> warn)
    {
        if (!master.Services.Any(s => s.Command is "qmgr" or "oqmgr"))
        {
            warn($"{master.File}: no qmgr service: mail is accepted and queued, and nothing is delivered until one is added (as in Postfix)");
            return;
        }
        (string Parameter, string Domains)[] routes =
        [
            ("local_transport", "mydestination"),
            ("virtual_transport", "virtual_mailbox_domains"),
            ("relay_transport", "relay_domains"),
            ("default_transport", ""),
        ];
        foreach ((string parameter, string domains) in routes)
        {
            string transport = main.Get(parameter).Split(':')[0];
            if ((domains.Length == 0 || main.GetList(domains).Count > 0) && transport.Length > 0
                && !master.Transports.Any(t => t.Name == transport))
            {
                warn($"{main.File}: {parameter} names transport \"{transport}\", which {master.File} does not have: that mail waits in the queue");
            }
        }
    }
}
