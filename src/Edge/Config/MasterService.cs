namespace Edge.Config;

/// <summary>
/// One master.cf service line. Private, Unprivileged, Chroot and Wakeup are parsed so that bad values
/// are reported, but Edge runs everything in one process and ignores them.
/// </summary>
/// <param name="Name">The service name; for inet, the listen endpoint (<see cref="Endpoint"/>).</param>
/// <param name="Wakeup">Seconds between wake-up events; 0 for none.</param>
/// <param name="MaxProc">The process limit: for a transport, its delivery concurrency. 0 means no limit;
/// "-" is default_process_limit.</param>
/// <param name="Command">The command name (first word of the command column).</param>
/// <param name="Args">The command's arguments, without the <c>-o</c> overrides; <c>{ ... }</c> groups are unwrapped.</param>
/// <param name="Overrides">The <c>-o name=value</c> main.cf overrides, in order.</param>
/// <param name="File">The master.cf the line is in.</param>
/// <param name="Line">The line it starts on.</param>
public sealed record MasterService(
    string Name,
    MasterServiceType Type,
    bool Private,
    bool Unprivileged,
    bool Chroot,
    int Wakeup,
    int MaxProc,
    string Command,
    IReadOnlyList<string> Args,
    IReadOnlyList<KeyValuePair<string, string>> Overrides,
    string File,
    int Line)
{
    static readonly HashSet<string> DeliveryAgents = ["smtp", "lmtp", "virtual", "local", "pipe", "error", "discard"];

    /// <summary>
    /// Postfix's daemons that Edge does in its one process, or that have no meaning there (tlsmgr, postlogd). tlsproxy
    /// does postscreen's STARTTLS and pickup imports edge sendmail's maildrop, each with its line's -o options.
    /// </summary>
    static readonly HashSet<string> BuiltIn =
    [
        "cleanup", "qmgr", "oqmgr", "trivial-rewrite", "bounce", "flush", "proxymap", "showq", "anvil", "scache",
        "tlsmgr", "postlogd", "verify", "dnsblog", "tlsproxy", "pickup",
    ];

    /// <summary>For an inet service, where it listens; null for other types.</summary>
    public ListenEndpoint? Endpoint { get; init; }

    public MasterServiceRole Role =>
        Type == MasterServiceType.Inet && Command is "smtpd" or "postscreen" ? MasterServiceRole.Listener
        : Type == MasterServiceType.Pass && Command == "smtpd" ? MasterServiceRole.Screened
        : Type == MasterServiceType.Unix && DeliveryAgents.Contains(Command) ? MasterServiceRole.Transport
        : BuiltIn.Contains(Command) ? MasterServiceRole.Internal
        : MasterServiceRole.Other;

    /// <summary>The main.cf configuration as this service sees it: with its <c>-o</c> overrides applied.</summary>
    public MainConfig ConfigFrom(MainConfig main) => main.WithOverrides(Overrides, File, Line);
}
