namespace Edge.Config;

public static partial class ParameterRegistry
{
    // Address rewriting, aliasing, local and virtual delivery, and the default transports.
    static ParameterDefinition[] AddressingParameters() =>
    [
        List("alias_maps", "hash:/etc/aliases, nis:mail.aliases"),
        List("alias_database", "hash:/etc/aliases"),
        List("canonical_maps", ""),
        List("sender_canonical_maps", ""),
        List("recipient_canonical_maps", ""),
        List("canonical_classes", "envelope_sender, envelope_recipient, header_sender, header_recipient"),
        List("masquerade_domains", ""),
        List("parent_domain_matches_subdomains", "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps"),
        List("masquerade_exceptions", ""),
        List("masquerade_classes", "envelope_sender, header_sender, header_recipient"),
        List("virtual_alias_maps", "$virtual_maps"),
        List("virtual_alias_domains", "$virtual_alias_maps"),
        List("virtual_mailbox_domains", "$virtual_mailbox_maps"),
        List("virtual_mailbox_maps", ""),
        Str("virtual_mailbox_base", ""),
        Long("virtual_mailbox_limit", "51200000"),
        Int("virtual_minimum_uid", "100"),
        List("virtual_uid_maps", ""),
        List("virtual_gid_maps", ""),
        List("transport_maps", ""),
        List("relocated_maps", ""),
        List("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps"),
        List("relay_recipient_maps", ""),
        Raw("luser_relay", ""),
        Str("home_mailbox", ""),
        Str("mail_spool_directory", "/var/mail"),
        Raw("mailbox_command", ""),
        Str("mailbox_transport", ""),
        Long("mailbox_size_limit", "51200000"),
        Str("fallback_transport", ""),
        Bool("swap_bangpath", "yes"),
        Bool("allow_percent_hack", "yes"),
        Bool("owner_request_special", "yes"),
        Bool("expand_owner_alias", "no"),
        Str("remote_header_rewrite_domain", ""),
        List("local_header_rewrite_clients", "permit_inet_interfaces"),
        List("sender_dependent_relayhost_maps", ""),
        List("sender_dependent_default_transport_maps", ""),
        Str("empty_address_recipient", "MAILER-DAEMON"),
        List("propagate_unmatched_extensions", "canonical, virtual"),

        Str("default_transport", "smtp"),
        Str("relay_transport", "relay"),
        Str("local_transport", "local:$myhostname"),
        Str("virtual_transport", "virtual"),
    ];
}
