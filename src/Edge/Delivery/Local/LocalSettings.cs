using System.Runtime.Versioning;
using Edge.Config;
using Edge.Tables;
using Edge.Unix;

namespace Edge.Delivery.Local;

/// <summary>Where local(8) found a destination, for allow_mail_to_commands and allow_mail_to_files.</summary>
[Flags]
internal enum ExpansionType
{
    None = 0,
    Alias = 1,
    Forward = 2,
    Include = 4,
}

/// <summary>local(8)'s main.cf settings, read and checked once per local service.</summary>
[UnsupportedOSPlatform("windows")]
internal sealed class LocalSettings
{
    private LocalSettings(MainConfig main)
    {
        Spool = main.Get("mail_spool_directory");
        HomeMailbox = main.Get("home_mailbox");
        Delimiter = main.Get("recipient_delimiter");
        Hostname = main.Get("myhostname");
        Origin = main.Get("myorigin");
        DoubleBounce = main.Get("double_bounce_sender");
        ForwardPath = [.. main.Get("forward_path").Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries)];
        Commands = Types(main, "allow_mail_to_commands");
        Files = Types(main, "allow_mail_to_files");
        // The local(8) words of the list; canonical, virtual and generic are the address maps' (AddressMap).
        Propagate = Types(main, "propagate_unmatched_extensions", othersAllowed: true);
        DeliveredHeader = DeliveredTo(main);
        Shell = main.Get("local_command_shell");
        ExecutionDirectory = main.Get("command_execution_directory");
        CommandFilter = main.Get("command_expansion_filter");
        ForwardFilter = main.Get("forward_expansion_filter");
        DirectoryFilter = main.Get("execution_directory_expansion_filter");
        TimeLimit = main.GetTime("command_time_limit");
        MailboxSizeLimit = SizeLimit(main, "mailbox_size_limit");
        Environment = ImportedEnvironment.Exported(main);
        QueueDirectory = main.Get("queue_directory");
        MailboxCommand = main.Get("mailbox_command").Trim();
        MailboxCommands = TableList.Open(main, "mailbox_command_maps");
        MailboxTransport = main.Get("mailbox_transport");
        MailboxTransports = TableList.Open(main, "mailbox_transport_maps");
        FallbackTransport = main.Get("fallback_transport");
        FallbackTransports = TableList.Open(main, "fallback_transport_maps");
        string privs = main.Get("default_privs");
        try
        {
            DefaultPrivileges = UnixAccount.Lookup(privs) ?? throw main.Error("default_privs", $"unknown user name: {privs}");
        }
        catch (IOException e)
        {
            throw main.Error("default_privs", $"cannot look up {privs}: {e.Message}");
        }
        if (DefaultPrivileges.Uid == 0 || DefaultPrivileges.Gid == 0)
        {
            throw main.Error("default_privs", $"{privs} has root privileges");
        }
    }

    public static LocalSettings From(MainConfig main) => new(main);

    public string Spool { get; }
    public string HomeMailbox { get; }
    public string Delimiter { get; }
    public string Hostname { get; }
    public string Origin { get; }
    public string DoubleBounce { get; }
    public IReadOnlyList<string> ForwardPath { get; }
    public ExpansionType Commands { get; }
    public ExpansionType Files { get; }

    /// <summary>propagate_unmatched_extensions' alias, forward and include.</summary>
    public ExpansionType Propagate { get; }

    /// <summary>prepend_delivered_header: which deliveries get a Delivered-To: line (mailboxes always do).</summary>
    public (bool Command, bool File, bool Forward) DeliveredHeader { get; }

    public string Shell { get; }
    public string ExecutionDirectory { get; }
    public string CommandFilter { get; }
    public string ForwardFilter { get; }
    public string DirectoryFilter { get; }
    public TimeSpan TimeLimit { get; }

    /// <summary>mailbox_size_limit: how large a mailbox or file local(8) writes may grow; 0 for no limit.</summary>
    public long MailboxSizeLimit { get; }
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Where commands run when command_execution_directory is empty, as Postfix's run in its queue directory.</summary>
    public string QueueDirectory { get; }

    public string MailboxCommand { get; }
    public TableList MailboxCommands { get; }
    public string MailboxTransport { get; }
    public TableList MailboxTransports { get; }
    public string FallbackTransport { get; }
    public TableList FallbackTransports { get; }

    /// <summary>The account that commands and files run as when no user's rights apply (root-owned aliases, root's own mail).</summary>
    public UnixUser DefaultPrivileges { get; }

    /// <summary>
    /// The transports mailbox_transport and fallback_transport name must be master.cf services (<paramref name="commandOf"/>
    /// gives a service's command, null for none), and not local(8) itself, which would hand the mail back and forth.
    /// </summary>
    public static void CheckTransports(MainConfig main, Func<string, string?> commandOf)
    {
        foreach (string parameter in (string[])["mailbox_transport", "fallback_transport"])
        {
            string value = main.Get(parameter);
            string name = value.Split(':', 2)[0].Trim();
            if (value.Length == 0)
            {
                continue;
            }
            switch (commandOf(name))
            {
                case null:
                    throw main.Error(parameter, $"transport \"{name}\" is not a master.cf service");
                case "local":
                    throw main.Error(parameter, $"transport \"{name}\" is local(8) itself, which would hand the mail back to itself");
            }
        }
    }

    /// <summary>
    /// A mailbox size limit, which must leave room for one message of message_size_limit, as Postfix insists at start-up
    /// (a mailbox that could never take a message the server accepted would bounce it every time).
    /// </summary>
    internal static long SizeLimit(MainConfig main, string parameter)
    {
        long limit = main.GetLong(parameter);
        long message = main.GetLong("message_size_limit");
        return limit <= 0 ? 0
            : message <= 0 ? throw main.Error(parameter, $"configuration error: {parameter} is limited but message_size_limit is unlimited")
            : limit < message ? throw main.Error(parameter, $"configuration error: {parameter} ({limit}) is smaller than message_size_limit ({message})")
            : limit;
    }

    /// <summary>The alias, forward and include words of a list; another word is an error naming the list, unless it is someone else's.</summary>
    private static ExpansionType Types(MainConfig main, string parameter, bool othersAllowed = false)
    {
        var types = ExpansionType.None;
        foreach (string item in main.GetList(parameter))
        {
            types |= item.ToLowerInvariant() switch
            {
                "alias" => ExpansionType.Alias,
                "forward" => ExpansionType.Forward,
                "include" => ExpansionType.Include,
                _ when othersAllowed => ExpansionType.None,
                _ => throw main.Error(parameter, $"unknown type \"{item}\" (expected alias, forward or include)"),
            };
        }
        return types;
    }

    private static (bool, bool, bool) DeliveredTo(MainConfig main)
    {
        string[] words = [.. main.GetList("prepend_delivered_header").Select(word => word.ToLowerInvariant())];
        if (words.FirstOrDefault(word => word is not ("command" or "file" or "forward")) is { } unknown)
        {
            throw main.Error("prepend_delivered_header", $"unknown item \"{unknown}\" (expected command, file or forward)");
        }
        return (words.Contains("command"), words.Contains("file"), words.Contains("forward"));
    }
}
