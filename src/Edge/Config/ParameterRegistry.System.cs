namespace Edge.Config;

public static partial class ParameterRegistry
{
    // Identity, network and installation parameters.
    static ParameterDefinition[] SystemParameters() =>
    [
        new("myhostname", ParameterKind.String, HostDefaults.MachineHostName, dependentDefault: HostDefaults.MyHostname),
        new("mydomain", ParameterKind.String, HostDefaults.DomainOf(HostDefaults.MachineHostName), dependentDefault: HostDefaults.MyDomain),
        Str("myorigin", "$myhostname"),
        List("mydestination", "$myhostname, localhost.$mydomain, localhost"),
        Str("mail_name", "Edge"),
        Str("mail_version", "1.0"),
        Meaningless(Str("compatibility_level", "0")),
        Meaningless(Bool("biff", "yes")),
        Bool("append_dot_mydomain", "no"),
        Bool("append_at_myorigin", "yes"),
        Str("recipient_delimiter", ""),
        Meaningless(Str("multi_instance_name", "")),
        Warned(Str("syslog_name", "${multi_instance_name?{$multi_instance_name}:{postfix}}")),
        Meaningless(Str("syslog_facility", "mail")),
        // Where the mail log goes instead of standard output (appended to; /dev/stdout is standard output), as Postfix's
        // postlogd writes it. edge postfix start needs it: a started server has no terminal.
        Str("maillog_file", ""),
        // edge postfix logrotate: the renamed file's suffix (date(1)'s format, as postfix-script passes it) and the program
        // that compresses it.
        Str("maillog_file_rotate_suffix", "%Y%m%d-%H%M%S"),
        Str("maillog_file_compressor", "gzip"),

        List("inet_interfaces", "all"),
        List("inet_protocols", "all"),
        List("proxy_interfaces", ""),
        new("mynetworks", ParameterKind.List, MynetworksDefault.Loopback, dependentDefault: MynetworksDefault.For),
        Choice("mynetworks_style", "host", "host", "subnet", "class"),
        List("relay_domains", ""),
        Str("relayhost", ""),
        Int("default_process_limit", "100"),

        Str("config_directory", "/etc/postfix"),
        Meaningless(Str("command_directory", "/usr/sbin")),
        Meaningless(Str("daemon_directory", "/usr/lib/postfix/sbin")),
        Meaningless(Str("data_directory", "/var/lib/postfix")),
        Str("queue_directory", "./var"),
        Meaningless(Str("meta_directory", "/etc/postfix")),
        Meaningless(Str("shlib_directory", "/usr/lib/postfix")),
        Meaningless(Str("readme_directory", "/usr/share/doc/postfix")),
        Meaningless(Str("html_directory", "/usr/share/doc/postfix/html")),
        Meaningless(Str("manpage_directory", "/usr/share/man")),
        Meaningless(Str("sample_directory", "/etc/postfix")),
        Meaningless(Str("sendmail_path", "/usr/sbin/sendmail")),
        Meaningless(Str("newaliases_path", "/usr/bin/newaliases")),
        Meaningless(Str("mailq_path", "/usr/bin/mailq")),
        Meaningless(Str("mail_owner", "postfix")),
        Meaningless(Str("setgid_group", "postdrop")),
        Str("default_privs", "nobody"),
        List("authorized_submit_users", "static:anyone"),
        Str("export_environment", "TZ MAIL_CONFIG LANG"),
        // What environ: tables and export_environment see in the server (ImportedEnvironment).
        Str("import_environment", "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME"),
        // The type postmap and postalias give a map named without one; Edge reads the source file of every indexed type.
        Str("default_database_type", "hash"),
        Meaningless(Str("process_id_directory", "pid")),
        Meaningless(Time("ipc_timeout", "3600s")),
        Meaningless(Time("max_idle", "100s")),
        Meaningless(Int("max_use", "100")),
        Meaningless(Time("daemon_timeout", "18000s")),
        Meaningless(Time("in_flow_delay", "1s")),
        Str("stress", ""),
        Bool("soft_bounce", "no"),
        Warned(List("debug_peer_list", "")),
        Warned(Int("debug_peer_level", "2")),
        Meaningless(Bool("enable_long_queue_ids", "no")),
    ];
}
