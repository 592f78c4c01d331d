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
        Warned(Str("smtp_tls_CApath", "")),
        Warned(Str("smtp_tls_CAfile", "")),
        Refused(Str("smtp_tls_cert_file", "")),
        Refused(Str("smtp_tls_key_file", "$smtp_tls_cert_file")),
        Refused(List("smtp_tls_chain_files", "")),
        Meaningless(Str("smtp_tls_session_cache_database", "")),
        Warned(Int("smtp_tls_loglevel", "0")),
        Refused(List("smtp_tls_policy_maps", "")),
        Bool("smtp_use_tls", "no"),
        Bool("smtp_enforce_tls", "no"),
        Refused(Bool("smtp_sasl_auth_enable", "no")),
        Warned(List("smtp_sasl_password_maps", "")),
        Warned(List("smtp_sasl_security_options", "noplaintext, noanonymous")),
        Warned(List("smtp_sasl_tls_security_options", "$smtp_sasl_security_options")),
        Str("smtp_helo_name", "$myhostname"),
        Warned(Str("smtp_bind_address", "")),
        Warned(Str("smtp_bind_address6", "")),
        Time("smtp_connect_timeout", "30s"),
        Time("smtp_helo_timeout", "300s"),
        Time("smtp_mail_timeout", "300s"),
        Time("smtp_rcpt_timeout", "300s"),
        Time("smtp_data_init_timeout", "120s"),
        Time("smtp_data_xfer_timeout", "180s"),
        Time("smtp_data_done_timeout", "600s"),
        Time("smtp_quit_timeout", "300s"),
        Time("smtp_starttls_timeout", "300s"),
        Warned(Bool("smtp_connection_cache_on_demand", "yes")),
        Warned(List("smtp_connection_cache_destinations", "")),
        Time("smtp_connection_cache_time_limit", "2s"),
        Time("smtp_connection_reuse_time_limit", "300s"),
        Warned(Bool("smtp_skip_5xx_greeting", "yes")),
        Warned(Str("smtp_dns_support_level", "")),
        Warned(List("smtp_host_lookup", "dns")),
        Int("smtp_mx_address_limit", "5"),
        Warned(Int("smtp_mx_session_limit", "2")),
        Warned(Int("smtp_line_length_limit", "998")),
        List("smtp_generic_maps", ""),
        List("lmtp_generic_maps", ""),
        List("smtp_header_checks", ""),
        List("smtp_mime_header_checks", ""),
        List("smtp_nested_header_checks", ""),
        List("smtp_body_checks", ""),
        Warned(Choice("smtp_address_preference", "any", "ipv6", "ipv4", "any")),
        Warned(Bool("smtp_always_send_ehlo", "yes")),
        Bool("smtp_never_send_ehlo", "no"),
        Refused(List("smtp_fallback_relay", "$fallback_relay")),

        Choice("lmtp_tls_security_level", "", ClientTlsLevels),
        Time("lmtp_connect_timeout", "0s"),
        Warned(List("lmtp_host_lookup", "dns")),
    ];
}
