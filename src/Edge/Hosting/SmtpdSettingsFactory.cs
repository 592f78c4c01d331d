using System.Security.Cryptography.X509Certificates;
using System.Text;
using Edge.Cleanup;
using Edge.Config;
using Edge.Dns;
using Edge.Milter;
using Edge.Net;
using Edge.Resolve;
using Edge.Restrictions;
using Edge.Restrictions.Policy;
using Edge.Restrictions.Policy.Store;
using Edge.Restrictions.Verify;
using Edge.Smtp.Auth;
using Edge.Smtp.BeforeQueue;
using Edge.Smtp.Data;
using Edge.Smtp.Session;
using Edge.Smtp.Tls;
using Edge.Tables;

namespace Edge.Hosting;

/// <summary>
/// Turns main.cf (with a listener's -o overrides) into <see cref="SmtpdSettings"/>, checking every value the
/// server will use, so that a bad value stops start-up with its file, line and parameter.
/// </summary>
internal static class SmtpdSettingsFactory
{
    /// <param name="stores">Where the policy scripts' store is opened (edge_policy_store).</param>
    /// <param name="verifier">The server's address verifier, for reject_unverified_recipient and reject_unverified_sender.</param>
    public static SmtpdSettings Create(MainConfig config, PolicyStores stores, AddressVerifier verifier)
    {
        string hostname = config.Get("myhostname");
        long sizeLimit = config.GetLong("message_size_limit");
        bool vrfyDisabled = config.GetBool("disable_vrfy_command");
        bool utf8 = config.GetBool("smtputf8_enable");
        var discard = new HashSet<string>(config.GetList("smtpd_discard_ehlo_keywords").Select(k => k.ToUpperInvariant()), StringComparer.OrdinalIgnoreCase);
        // mynetworks first: other lists default to $mynetworks, and its own line is the one to report.
        NetworkList mynetworks = config.GetNetworks("mynetworks");
        // As Postfix: wrapper mode (port 465) is TLS before anything, so TLS is required.
        bool wrapper = config.GetBool("smtpd_tls_wrappermode");
        TlsLevel tls = wrapper ? TlsLevel.Encrypt : ParseTlsLevel(config);
        AddressClassifier classifier = Classifier(config);
        IReadOnlySet<string> overrides = ReceiveOverrides(config);
        X509Certificate2? certificate = tls == TlsLevel.None ? null : ServerTlsSettings.LoadCertificate(config, "smtpd", "smtpd_tls_security_level");
        SaslSettings? sasl = SaslSettings.From(config, config.GetNetworks, tlsEnforced: tls == TlsLevel.Encrypt);

        var settings = new SmtpdSettings
        {
            MyHostname = hostname,
            MailName = config.Get("mail_name"),
            Greeting = Encoding.UTF8.GetBytes($"220 {config.Get("smtpd_banner")}\r\n"),
            EhloReplies = [.. Enumerable.Range(0, 4).Select(i =>
                SmtpdSettings.BuildEhlo(hostname, sizeLimit, !vrfyDisabled, startTls: (i & 1) != 0, xclient: (i & 2) != 0, utf8, discard))],
            HeloReply = Encoding.ASCII.GetBytes($"250 {hostname}\r\n"),
            MessageSizeLimit = sizeLimit,
            RecipientLimit = config.GetInt("smtpd_recipient_limit"),
            Timeout = config.GetTime("smtpd_timeout"),
            HeloRequired = config.GetBool("smtpd_helo_required"),
            SoftErrorLimit = config.GetInt("smtpd_soft_error_limit"),
            HardErrorLimit = config.GetInt("smtpd_hard_error_limit"),
            ErrorSleep = config.GetTime("smtpd_error_sleep_time"),
            JunkCommandLimit = config.GetInt("smtpd_junk_command_limit"),
            BareNewline = ParseBareNewline(config),
            BareNewlineExclusions = config.GetNetworks("smtpd_forbid_bare_newline_exclusions"),
            BareNewlineRejectCode = ReplyCode(config, "smtpd_forbid_bare_newline_reject_code"),
            ForbidUnauthPipelining = config.GetBool("smtpd_forbid_unauth_pipelining"),
            DisableVrfy = vrfyDisabled,
            StrictRfc821Envelopes = config.GetBool("strict_rfc821_envelopes"),
            SmtpUtf8Enabled = utf8,
            ChunkingEnabled = !discard.Contains("CHUNKING"),
            DsnEnabled = !discard.Contains("DSN"),
            LineLengthLimit = Math.Max(512, config.GetInt("line_length_limit")),
            Mynetworks = mynetworks,
            HeaderRewriteClients = HeaderRewriteClients.From(config),
            Classifier = classifier,
            Cleanup = CleanupSettings.From(config, classifier, overrides),
            Milters = overrides.Contains("no_milters") ? null : MilterSettings.From(config, "smtpd_milters"),
            ProxyFilter = ProxyFilterSettings.From(config),
            Restrictions = Restrictions(config, stores, classifier, verifier) with
            {
                RejectUnlistedRecipient = config.GetBool("smtpd_reject_unlisted_recipient") && !overrides.Contains("no_unknown_recipient_checks"),
            },
            XclientHosts = config.GetNetworks("smtpd_authorized_xclient_hosts"),
            ClientConnectionLimit = config.GetInt("smtpd_client_connection_count_limit"),
            SoftBounce = config.GetBool("soft_bounce"),
            ClientConnectionRateLimit = config.GetInt("smtpd_client_connection_rate_limit"),
            ClientMessageRateLimit = config.GetInt("smtpd_client_message_rate_limit"),
            ClientRecipientRateLimit = config.GetInt("smtpd_client_recipient_rate_limit"),
            ClientNewTlsSessionRateLimit = config.GetInt("smtpd_client_new_tls_session_rate_limit"),
            AnvilTimeUnit = config.GetTime("anvil_rate_time_unit"),
            ClientLimitExceptions = config.GetNetworks("smtpd_client_event_limit_exceptions"),
            PerRequestDeadline = config.GetBool("smtpd_per_request_deadline"),
            PeernameLookup = config.GetBool("smtpd_peername_lookup"),
            SessionTimeLimit = config.GetTime("edge_session_time_limit"),
            UpstreamProxy = ParseUpstreamProxy(config),
            UpstreamProxyTimeout = config.GetTime("smtpd_upstream_proxy_timeout"),
            Tls = tls,
            Notify = SessionNotify.From(config, classifier),
            StartTlsTimeout = config.GetTime("smtpd_starttls_timeout"),
            ServerTls = tls == TlsLevel.None ? ServerTlsSettings.None : ServerTlsSettings.From(config, tls == TlsLevel.Encrypt),
            Sasl = sasl,
            SharedRates = SharedRates(config, sasl, stores),
            EhloDiscard = discard,
            Certificate = certificate,
        };
        if (settings.ProxyFilter is not null && !settings.Restrictions.EndOfData.IsEmpty)
        {
            // Postfix checks them before the final dot goes to the before-queue filter; Edge does not yet.
            throw config.Error("smtpd_end_of_data_restrictions", "is not supported together with smtpd_proxy_filter yet");
        }
        return settings;
    }

    /// <summary>
    /// The store the client rates are counted in across servers: edge_policy_store when servers share it (redis:) and a
    /// rate limit is set; the connection count limit stays each server's own, as it guards each server's resources.
    /// </summary>
    private static IPolicyStore? SharedRates(MainConfig config, SaslSettings? sasl, PolicyStores stores)
    {
        bool rates = sasl is { RateLimit: > 0 } || new[]
        {
            "smtpd_client_connection_rate_limit", "smtpd_client_message_rate_limit", "smtpd_client_recipient_rate_limit",
            "smtpd_client_new_tls_session_rate_limit",
        }.Any(name => config.GetInt(name) > 0);
        return rates && PolicyStores.IsShared(config) ? stores.Open(config, ScriptLimits.From(config).Time) : null;
    }

    /// <summary>
    /// receive_override_options, as a listener behind a content filter uses them: no_header_body_checks,
    /// no_address_mappings (virtual aliases), no_unknown_recipient_checks and no_milters.
    /// </summary>
    internal static IReadOnlySet<string> ReceiveOverrides(MainConfig config)
    {
        var overrides = new HashSet<string>(config.GetList("receive_override_options"), StringComparer.OrdinalIgnoreCase);
        foreach (string word in overrides)
        {
            if (word.ToLowerInvariant() is not ("no_header_body_checks" or "no_address_mappings" or "no_unknown_recipient_checks" or "no_milters"))
            {
                throw config.Error("receive_override_options", $"unknown option \"{word}\" (no_header_body_checks, no_address_mappings, no_unknown_recipient_checks or no_milters)");
            }
        }
        return overrides;
    }

    /// <summary>
    /// The address classes from mydestination (with this host's address literals), the virtual domain lists and
    /// relay_domains, and how the resolver takes routed addresses apart (allow_percent_hack, swap_bangpath,
    /// resolve_dequoted_address).
    /// </summary>
    public static AddressClassifier Classifier(MainConfig config) => new(
        Domains(config, "mydestination"), Domains(config, "virtual_alias_domains"),
        Domains(config, "virtual_mailbox_domains"), Domains(config, "relay_domains"),
        config.GetBool("allow_percent_hack"), config.GetBool("swap_bangpath"), config.GetBool("resolve_dequoted_address"),
        config.GetBool("append_at_myorigin") ? config.Get("myorigin") : null,
        ListenEndpoint.OwnAddresses(config), config.GetBool("resolve_numeric_domain"), config.Get("myorigin"));

    private static BareNewlineMode ParseBareNewline(MainConfig config) =>
        config.Get("smtpd_forbid_bare_newline").ToLowerInvariant() switch
        {
            "normalize" or "yes" or "note" => BareNewlineMode.Normalize,
            "reject" => BareNewlineMode.Reject,
            "no" => BareNewlineMode.Allow,
            string other => throw config.Error("smtpd_forbid_bare_newline",
                $"bad value \"{other}\" (use normalize, reject or no)"),
        };

    private static bool ParseUpstreamProxy(MainConfig config) =>
        config.Get("smtpd_upstream_proxy_protocol").ToLowerInvariant() switch
        {
            "" => false,
            "haproxy" => true,
            string other => throw config.Error("smtpd_upstream_proxy_protocol", $"unsupported protocol \"{other}\" (use haproxy or nothing)"),
        };

    private static TlsLevel ParseTlsLevel(MainConfig config)
    {
        string level = config.Get("smtpd_tls_security_level").ToLowerInvariant();
        return level switch
        {
            "" or "none" => TlsLevel.None,
            "may" => TlsLevel.May,
            "encrypt" => TlsLevel.Encrypt,
            _ => throw config.Error("smtpd_tls_security_level", $"bad value \"{level}\" (use none, may or encrypt)"),
        };
    }

    private static int ReplyCode(MainConfig config, string name)
    {
        int code = config.GetInt(name);
        if (code is < 400 or > 599)
        {
            throw config.Error(name, $"bad reply code {code} (must be 4XX or 5XX)");
        }
        return code;
    }

    /// <summary>A domain list: names, "/file" (its names, as Postfix reads them) and type:table entries.</summary>
    private static DomainSet Domains(MainConfig config, string name)
    {
        var domains = new List<string>();
        var tables = new List<Tables.ILookupTable>();
        foreach (string item in config.GetList(name))
        {
            if (item.StartsWith('/'))
            {
                try
                {
                    domains.AddRange(File.ReadLines(item).SelectMany(line => line.Split('#')[0]
                        .Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw config.Error(name, $"cannot read {item}: {e.Message}");
                }
            }
            else if (item.Contains(':'))
            {
                tables.Add(Tables.TableFactory.Open(item, Tables.TableSettings.From(config), out string? error) ?? throw config.Error(name, $"{item}: {error}"));
            }
            else
            {
                domains.Add(item);
            }
        }
        return new DomainSet(domains, ParentMatchesSubdomains(config, name), [.. tables]);
    }

    /// <summary>
    /// Postfix's has_required(): a restriction that refuses by default comes before any unconditional permit, in the
    /// list or in a class it names, however deep (a class met again on the way is not looked into twice).
    /// </summary>
    private static bool RejectsByDefault(RestrictionList list, IReadOnlyDictionary<string, RestrictionList> classes, HashSet<string>? seen = null)
    {
        foreach (RestrictionStep step in list.Steps)
        {
            if (step.Kind == Restriction.Permit)
            {
                return false;
            }
            if (step.Kind is Restriction.RejectUnauthDestination or Restriction.DeferUnauthDestination or Restriction.Reject
                or Restriction.Defer or Restriction.DeferIfPermit
                || (step.Kind == Restriction.RestrictionClass && (seen ??= []).Add(step.TableName!)
                    && RejectsByDefault(classes[step.TableName!], classes, seen)))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether parent_domain_matches_subdomains names <paramref name="name"/> (a list or "smtpd_access_maps").</summary>
    public static bool ParentMatchesSubdomains(MainConfig config, string name) =>
        config.GetList("parent_domain_matches_subdomains").Contains(name, StringComparer.OrdinalIgnoreCase);

    private static RestrictionSettings Restrictions(MainConfig config, PolicyStores stores, AddressClassifier classifier, AddressVerifier verifier)
    {
        if (config.GetList("rbl_reply_maps").Count > 0)
        {
            throw config.Error("rbl_reply_maps", "is not supported yet; leave it empty");
        }
        DnsResolver dns = DeliveryFactory.Resolver(config, out string? dnsError);
        if (dnsError is not null)
        {
            throw config.Error("edge_dns_servers", dnsError);
        }
        ScriptLimits scriptLimits = ScriptLimits.From(config);
        var policies = new PolicyLoader(scriptLimits, new PolicyServiceSettings(
            config.GetTime("smtpd_policy_service_timeout"), config.GetTime("smtpd_policy_service_max_idle"),
            config.GetTime("smtpd_policy_service_max_ttl"), config.Get("smtpd_policy_service_default_action"),
            config.GetInt("smtpd_policy_service_request_limit"), Math.Max(1, config.GetInt("smtpd_policy_service_try_limit")),
            config.GetTime("smtpd_policy_service_retry_delay"), config.Get("queue_directory")),
            () => stores.Open(config, scriptLimits.Time), dns, Tables.TableSettings.From(config));
        Dictionary<string, RestrictionList> classes = Classes(config, policies);
        // As Postfix's smtpd reads them (so master.cf -o may set them per listener), with its minimums.
        int pollCount = config.GetInt("address_verify_poll_count");
        if (pollCount < 1)
        {
            throw config.Error("address_verify_poll_count", $"invalid value {pollCount} (min 1)");
        }
        TimeSpan pollDelay = config.GetTime("address_verify_poll_delay");
        if (pollDelay < TimeSpan.FromSeconds(1))
        {
            throw config.Error("address_verify_poll_delay", $"invalid value {config.Get("address_verify_poll_delay")} (min 1s)");
        }
        RestrictionList data = AfterRecipients(config, "smtpd_data_restrictions", policies, classes);
        RestrictionList endOfData = AfterRecipients(config, "smtpd_end_of_data_restrictions", policies, classes);
        RestrictionList relay = Restrictions(config, "smtpd_relay_restrictions", policies, classes);
        RestrictionList recipient = Restrictions(config, "smtpd_recipient_restrictions", policies, classes);
        // Postfix's guard against an open relay: one of the two lists must be able to say no to a recipient before
        // anything permits everything.
        if (!RejectsByDefault(relay, classes) && !RejectsByDefault(recipient, classes))
        {
            throw config.Error(config.IsSet("smtpd_recipient_restrictions") ? "smtpd_recipient_restrictions" : "smtpd_relay_restrictions",
                "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working instance of: " +
                "reject_unauth_destination, defer_unauth_destination, reject, defer or defer_if_permit");
        }
        return new RestrictionSettings
        {
            Client = Restrictions(config, "smtpd_client_restrictions", policies, classes),
            Helo = Restrictions(config, "smtpd_helo_restrictions", policies, classes),
            Sender = Restrictions(config, "smtpd_sender_restrictions", policies, classes),
            Etrn = Restrictions(config, "smtpd_etrn_restrictions", policies, classes),
            Classes = classes,
            Relay = relay,
            Recipient = recipient,
            Data = data,
            EndOfData = endOfData,
            DelayReject = config.GetBool("smtpd_delay_reject"),
            EndOfDataShowsMessage = endOfData.Steps.ToArray().Any(step => step.Policy is PolicyScript),
            PolicyBodyLimit = Math.Max(0, config.GetInt("edge_policy_body_limit")),
            Dns = dns,
            RecipientMaps = RecipientMaps.Open(config, classifier),
            RelayClientCerts = TableList.Open(config, "relay_clientcerts"),
            SenderLoginMaps = config.GetBool("smtpd_sasl_auth_enable") ? TableList.Open(config, "smtpd_sender_login_maps") : null,
            RejectUnlistedSender = config.GetBool("smtpd_reject_unlisted_sender"),
            RejectCode = ReplyCode(config, "reject_code"),
            DeferCode = ReplyCode(config, "defer_code"),
            AccessRejectCode = ReplyCode(config, "access_map_reject_code"),
            AccessDeferCode = ReplyCode(config, "access_map_defer_code"),
            RelayRejectCode = ReplyCode(config, "relay_domains_reject_code"),
            InvalidHostnameRejectCode = ReplyCode(config, "invalid_hostname_reject_code"),
            NonFqdnRejectCode = ReplyCode(config, "non_fqdn_reject_code"),
            UnknownAddressRejectCode = ReplyCode(config, "unknown_address_reject_code"),
            UnknownClientRejectCode = ReplyCode(config, "unknown_client_reject_code"),
            UnknownHostnameRejectCode = ReplyCode(config, "unknown_hostname_reject_code"),
            UnknownHeloTempfailDefers = TempfailAction(config, "unknown_helo_hostname_tempfail_action"),
            UnverifiedRecipient = new UnverifiedAddress(verifier, Subject.Recipient, ReplyCode(config, "unverified_recipient_reject_code"),
                ReplyCode(config, "unverified_recipient_defer_code"), config.Get("unverified_recipient_reject_reason"),
                TempfailAction(config, "unverified_recipient_tempfail_action"), pollCount, pollDelay),
            UnverifiedSender = new UnverifiedAddress(verifier, Subject.Sender, ReplyCode(config, "unverified_sender_reject_code"),
                ReplyCode(config, "unverified_sender_defer_code"), config.Get("unverified_sender_reject_reason"),
                TempfailAction(config, "unverified_sender_tempfail_action"), pollCount, pollDelay),
            MultiRecipientBounceCode = ReplyCode(config, "multi_recipient_bounce_reject_code"),
            RblRejectCode = ReplyCode(config, "maps_rbl_reject_code"),
            RblReply = config.GetRaw("default_rbl_reply"),
            NullAccessKey = config.Get("smtpd_null_access_lookup_key"),
            RecipientDelimiter = config.Get("recipient_delimiter"),
            AllowUntrustedRouting = config.GetBool("allow_untrusted_routing"),
            MyHostname = config.Get("myhostname"),
            MyAddresses = ListenEndpoint.OwnAddresses(config),
            MxBackupNetworks = config.GetNetworks("permit_mx_backup_networks"),
            ParentDomainMatchesSubdomains = ParentMatchesSubdomains(config, "smtpd_access_maps"),
        };
    }

    /// <summary>
    /// smtpd_restriction_classes: each name is a parameter holding a restriction list, which lists and access tables
    /// may name; one without a definition stops start-up, as in Postfix.
    /// </summary>
    private static Dictionary<string, RestrictionList> Classes(MainConfig config, PolicyLoader policies)
    {
        IReadOnlyList<string> names = config.GetList("smtpd_restriction_classes");
        var classes = new Dictionary<string, RestrictionList>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            if (config.GetList(name).Count == 0)
            {
                throw config.Error("smtpd_restriction_classes", $"restriction class `{name}' needs a definition");
            }
            classes[name] = RestrictionList.Parse(config.GetList(name), out string? error, policies, names.Contains)
                ?? throw config.Error(name, error!);
        }
        return classes;
    }

    /// <summary>A *_tempfail_action: true for defer (reply 450 at once), false for defer_if_permit.</summary>
    private static bool TempfailAction(MainConfig config, string name) => config.Get(name).ToLowerInvariant() switch
    {
        "defer" => true,
        "defer_if_permit" => false,
        var other => throw config.Error(name, $"unknown action \"{other}\" (expected defer or defer_if_permit)"),
    };

    /// <summary>
    /// smtpd_data_restrictions or smtpd_end_of_data_restrictions: no DNS checks there yet, and no bare type:table,
    /// which means nothing after the recipients (Postfix warns and answers with a server error at each message).
    /// </summary>
    private static RestrictionList AfterRecipients(MainConfig config, string name, PolicyLoader policies,
        IReadOnlyDictionary<string, RestrictionList> classes)
    {
        RestrictionList list = Restrictions(config, name, policies, classes);
        foreach (RestrictionStep step in list.Steps)
        {
            if (step.Kind == Restriction.CheckListAccess)
            {
                throw config.Error(name, "specify one of (check_client_access, check_reverse_client_access, check_helo_access, " +
                    $"check_sender_access, check_recipient_access, check_etrn_access) before restriction \"{step.TableName}\"");
            }
            if (step.List is not null || step.Kind is Restriction.PermitMxBackup or Restriction.RejectUnknownHeloHostname
                or >= Restriction.CheckClientNsAccess and <= Restriction.CheckRecipientAAccess)
            {
                string what = step.List is not null ? "DNS list checks" : "DNS lookups";
                throw config.Error(name, $"{what} ({RestrictionList.NameOf(step.Kind)}) are not supported here yet; use them in smtpd_client_restrictions or smtpd_recipient_restrictions");
            }
        }
        return list;
    }

    private static RestrictionList Restrictions(MainConfig config, string name, PolicyLoader policies,
        IReadOnlyDictionary<string, RestrictionList> classes) =>
        RestrictionList.Parse(config.GetList(name), out string? error, policies, classes.ContainsKey) ?? throw config.Error(name, error!);
}
