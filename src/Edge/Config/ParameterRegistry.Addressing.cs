namespace Edge.Config;

public static partial class ParameterRegistry
{
    /// <summary>The characters local(8) lets through from an address into a command's environment or a file name.</summary>
    const string ExpansionFilter = "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    // Address rewriting, aliasing, local and virtual delivery, and the default transports.
    static ParameterDefinition[] AddressingParameters() =>
    [
        List("alias_maps", "hash:/etc/aliases, nis:mail.aliases"),
        // What newaliases checks (Edge reads alias_maps' source files, so there is nothing to build).
        List("alias_database", "hash:/etc/aliases"),
        List("canonical_maps", ""),
        List("sender_canonical_maps", ""),
        List("recipient_canonical_maps", ""),
        List("canonical_classes", "envelope_sender, envelope_recipient, header_sender, header_recipient"),
        List("sender_canonical_classes", "envelope_sender, header_sender"),
        List("recipient_canonical_classes", "envelope_recipient, header_recipient"),
        List("masquerade_domains", ""),
        List("parent_domain_matches_subdomains", "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps"),
        List("masquerade_exceptions", ""),
        List("masquerade_classes", "envelope_sender, header_sender, header_recipient"),
        List("virtual_alias_maps", "$virtual_maps"),
        Int("virtual_alias_recursion_limit", "1000"),
        Int("virtual_alias_expansion_limit", "1000"),
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
        Bool("relocated_prefix_enable", "yes"),
        List("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps"),
        List("relay_recipient_maps", ""),
        Raw("luser_relay", ""),
        Str("home_mailbox", ""),
        Str("mail_spool_directory", "/var/mail"),
        // local(8)'s mailbox command is run as written: Postfix does not expand $names in it.
        Raw("mailbox_command", ""),
        List("mailbox_command_maps", ""),
        Str("mailbox_transport", ""),
        List("mailbox_transport_maps", ""),
        Long("mailbox_size_limit", "51200000"),
        Str("fallback_transport", ""),
        List("fallback_transport_maps", ""),
        // local(8)'s own $names ($home, $user, $extension …), expanded per recipient, not as main.cf parameters.
        Raw("forward_path", "$home/.forward${recipient_delimiter}${extension}, $home/.forward"),
        List("allow_mail_to_commands", "alias, forward"),
        List("allow_mail_to_files", "alias, forward"),
        List("prepend_delivered_header", "command, file, forward"),
        Str("local_command_shell", ""),
        Raw("command_execution_directory", ""),
        Raw("command_expansion_filter", ExpansionFilter),
        Raw("forward_expansion_filter", ExpansionFilter),
        Raw("execution_directory_expansion_filter", ExpansionFilter),
        Bool("swap_bangpath", "yes"),
        Bool("allow_percent_hack", "yes"),
        Bool("resolve_numeric_domain", "no"),
        Bool("resolve_dequoted_address", "yes"),
        Warned(Bool("owner_request_special", "yes")),
        Warned(Bool("expand_owner_alias", "no")),
        Str("remote_header_rewrite_domain", ""),
        List("local_header_rewrite_clients", "permit_inet_interfaces"),
        Refused(List("sender_dependent_relayhost_maps", "")),
        Refused(List("sender_dependent_default_transport_maps", "")),
        Warned(Str("empty_address_recipient", "MAILER-DAEMON")),
        List("propagate_unmatched_extensions", "canonical, virtual"),

        Str("default_transport", "smtp"),
        Str("relay_transport", "relay"),
        Str("local_transport", "local:$myhostname"),
        Str("virtual_transport", "virtual"),
    ];
}
