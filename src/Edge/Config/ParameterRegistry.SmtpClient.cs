namespace Edge.Config;

public static partial class ParameterRegistry
{
    // A property, not a field: All is built by a field initializer in another part of this class,
    // and C# does not order static initializers across the files of a partial class.
    static string[] ClientTlsLevels => ["", "none", "may", "encrypt", "dane", "dane-only", "fingerprint", "verify", "secure"];

    // The SMTP and LMTP delivery clients.
    static ParameterDefinition[] SmtpClientParameters() =>
    [
        Choice("smtp_tls_security_level", "", ClientTlsLevels),
        Str("smtp_tls_CApath", ""),
        Str("smtp_tls_CAfile", ""),
        Str("smtp_tls_cert_file", ""),
        Str("smtp_tls_key_file", "$smtp_tls_cert_file"),
        List("smtp_tls_chain_files", ""),
        Str("smtp_tls_session_cache_database", ""),
        Int("smtp_tls_loglevel", "0"),
        List("smtp_tls_policy_maps", ""),
        Bool("smtp_use_tls", "no"),
        Bool("smtp_enforce_tls", "no"),
        Bool("smtp_sasl_auth_enable", "no"),
        List("smtp_sasl_password_maps", ""),
        List("smtp_sasl_security_options", "noplaintext, noanonymous"),
        List("smtp_sasl_tls_security_options", "$smtp_sasl_security_options"),
        Str("smtp_helo_name", "$myhostname"),
        Str("smtp_bind_address", ""),
        Str("smtp_bind_address6", ""),
        Time("smtp_connect_timeout", "30s"),
        Time("smtp_helo_timeout", "300s"),
        Time("smtp_mail_timeout", "300s"),
        Time("smtp_rcpt_timeout", "300s"),
        Time("smtp_data_init_timeout", "120s"),
        Time("smtp_data_xfer_timeout", "180s"),
        Time("smtp_data_done_timeout", "600s"),
        Time("smtp_quit_timeout", "300s"),
        Time("smtp_starttls_timeout", "300s"),
        Bool("smtp_connection_cache_on_demand", "yes"),
        List("smtp_connection_cache_destinations", ""),
        Time("smtp_connection_cache_time_limit", "2s"),
        Time("smtp_connection_reuse_time_limit", "300s"),
        Bool("smtp_skip_5xx_greeting", "yes"),
        Str("smtp_dns_support_level", ""),
        List("smtp_host_lookup", "dns"),
        Int("smtp_mx_address_limit", "5"),
        Int("smtp_mx_session_limit", "2"),
        Int("smtp_line_length_limit", "998"),
        List("smtp_generic_maps", ""),
        List("smtp_header_checks", ""),
        List("smtp_body_checks", ""),
        Choice("smtp_address_preference", "any", "ipv6", "ipv4", "any"),
        Bool("smtp_always_send_ehlo", "yes"),
        Bool("smtp_never_send_ehlo", "no"),
        List("smtp_fallback_relay", "$fallback_relay"),

        Choice("lmtp_tls_security_level", "", ClientTlsLevels),
        Time("lmtp_connect_timeout", "0s"),
        List("lmtp_host_lookup", "dns"),
    ];
}
