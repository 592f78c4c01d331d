namespace Edge.Config;

public static partial class ParameterRegistry
{
    // postscreen(8), with Postfix 3.7's defaults (non-stress values: Edge has no stress mode). The names 3.6 replaced
    // (postscreen_blacklist_action, postscreen_dnsbl_whitelist_threshold) are read through the new names' defaults, as
    // in Postfix.
    static ParameterDefinition[] PostscreenParameters() =>
    [
        List("postscreen_access_list", "permit_mynetworks"),
        Choice("postscreen_denylist_action", "${postscreen_blacklist_action?{$postscreen_blacklist_action}:{ignore}}",
            "ignore", "enforce", "drop", "continue"),
        Str("postscreen_greet_banner", "$smtpd_banner"),
        Time("postscreen_greet_wait", "6s"),
        Choice("postscreen_greet_action", "ignore", "ignore", "enforce", "drop"),
        Time("postscreen_greet_ttl", "1d"),
        List("postscreen_dnsbl_sites", ""),
        SignedInt("postscreen_dnsbl_threshold", "1"),
        SignedInt("postscreen_dnsbl_allowlist_threshold", "${postscreen_dnsbl_whitelist_threshold?{$postscreen_dnsbl_whitelist_threshold}:{0}}"),
        Choice("postscreen_dnsbl_action", "ignore", "ignore", "enforce", "drop"),
        Time("postscreen_dnsbl_min_ttl", "60s"),
        Time("postscreen_dnsbl_max_ttl", "1h"),
        // Postfix 2.8-3.0's single DNSBL lifetime, which only the default of postscreen_dnsbl_max_ttl still reads.
        Refused(Time("postscreen_dnsbl_ttl", "1h")),
        Time("postscreen_dnsbl_timeout", "10s"),
        Str("postscreen_dnsbl_reply_map", ""),
        Bool("postscreen_pipelining_enable", "no"),
        Choice("postscreen_pipelining_action", "enforce", "ignore", "enforce", "drop"),
        Time("postscreen_pipelining_ttl", "30d"),
        Bool("postscreen_non_smtp_command_enable", "no"),
        Choice("postscreen_non_smtp_command_action", "drop", "ignore", "enforce", "drop"),
        Time("postscreen_non_smtp_command_ttl", "30d"),
        Bool("postscreen_bare_newline_enable", "no"),
        Choice("postscreen_bare_newline_action", "ignore", "ignore", "enforce", "drop"),
        Time("postscreen_bare_newline_ttl", "30d"),
        // Edge keeps the cache in edge_policy_store (a fleet on Redis shares it), not in the file named; empty means no
        // cache. Records expire by themselves, when Postfix's cleanup run would drop them at the latest.
        Str("postscreen_cache_map", "btree:$data_directory/postscreen_cache"),
        Time("postscreen_cache_retention_time", "7d"),
        Time("postscreen_cache_cleanup_interval", "12h"),
        Choice("postscreen_upstream_proxy_protocol", "", "", "haproxy"),
        Time("postscreen_upstream_proxy_timeout", "5s"),
        Int("postscreen_client_connection_count_limit", "$smtpd_client_connection_count_limit"),
        Int("postscreen_command_count_limit", "20"),
        Time("postscreen_command_time_limit", "300s"),
        Bool("postscreen_helo_required", "$smtpd_helo_required"),
        Bool("postscreen_disable_vrfy_command", "$disable_vrfy_command"),
        Str("smtpd_service_name", "smtpd"),
        // Each Edge listener is one process: there is no queue of connections waiting for a free smtpd process.
        Meaningless(Int("postscreen_pre_queue_limit", "$default_process_limit")),
        Meaningless(Int("postscreen_post_queue_limit", "$default_process_limit")),
        Meaningless(Time("postscreen_watchdog_timeout", "10s")),
        Meaningless(Str("dnsblog_service_name", "dnsblog")),
        Str("tlsproxy_service_name", "tlsproxy"),
        Refused(Str("postscreen_forbidden_commands", "CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}")),
        Refused(Str("postscreen_allowlist_interfaces", "${postscreen_whitelist_interfaces?{$postscreen_whitelist_interfaces}:{static:all}}")),
        Refused(Str("postscreen_whitelist_interfaces", "static:all")),
        Refused(Str("postscreen_command_filter", "")),
        List("postscreen_discard_ehlo_keywords", "$smtpd_discard_ehlo_keywords"),
        Refused(List("postscreen_discard_ehlo_keyword_address_maps", "$smtpd_discard_ehlo_keyword_address_maps")),
        Refused(Str("postscreen_reject_footer", "")),
        Refused(Str("postscreen_reject_footer_maps", "")),
        Warned(Str("postscreen_expansion_filter", "")),
        Choice("postscreen_tls_security_level", "$smtpd_tls_security_level", "", "none", "may", "encrypt"),
        // As smtpd's: Edge reads the TLS levels, not the older switches they replaced.
        Refused(Bool("postscreen_use_tls", "$smtpd_use_tls")),
        Refused(Bool("postscreen_enforce_tls", "$smtpd_enforce_tls")),
        .. TlsproxyParameters(),
    ];

    /// <summary>
    /// tlsproxy(8)'s server role, which does postscreen's STARTTLS: each setting defaults to smtpd's, and the tlsproxy
    /// service's master.cf -o options apply, as in Postfix. Its client role (smtp_tls_connection_reuse) is not Edge's.
    /// </summary>
    static ParameterDefinition[] TlsproxyParameters() =>
    [
        Choice("tlsproxy_tls_security_level", "$smtpd_tls_security_level", "", "none", "may", "encrypt"),
        Refused(Bool("tlsproxy_use_tls", "$smtpd_use_tls")),
        Refused(Bool("tlsproxy_enforce_tls", "$smtpd_enforce_tls")),
        Str("tlsproxy_tls_cert_file", "$smtpd_tls_cert_file"),
        Str("tlsproxy_tls_key_file", "$smtpd_tls_key_file"),
        Refused(List("tlsproxy_tls_chain_files", "$smtpd_tls_chain_files")),
        Int("tlsproxy_tls_loglevel", "$smtpd_tls_loglevel"),
        List("tlsproxy_tls_protocols", "$smtpd_tls_protocols"),
        List("tlsproxy_tls_mandatory_protocols", "$smtpd_tls_mandatory_protocols"),
        Str("tlsproxy_tls_ciphers", "$smtpd_tls_ciphers"),
        Str("tlsproxy_tls_mandatory_ciphers", "$smtpd_tls_mandatory_ciphers"),
        List("tlsproxy_tls_exclude_ciphers", "$smtpd_tls_exclude_ciphers"),
        List("tlsproxy_tls_mandatory_exclude_ciphers", "$smtpd_tls_mandatory_exclude_ciphers"),
        Str("tlsproxy_tls_CAfile", "$smtpd_tls_CAfile"),
        Str("tlsproxy_tls_CApath", "$smtpd_tls_CApath"),
        Bool("tlsproxy_tls_ask_ccert", "$smtpd_tls_ask_ccert"),
        Bool("tlsproxy_tls_req_ccert", "$smtpd_tls_req_ccert"),
        Str("tlsproxy_tls_fingerprint_digest", "$smtpd_tls_fingerprint_digest"),
        Meaningless(Time("tlsproxy_tls_session_cache_timeout", "$smtpd_tls_session_cache_timeout")),
        Meaningless(Time("tlsproxy_watchdog_timeout", "10s")),
    ];
}
