namespace Edge.Tables;

/// <summary>
/// nis: tables, as Postfix treats them on a machine without an NIS domain (Debian's usual case, and the
/// reason Postfix's default alias_maps can name nis:mail.aliases): every lookup finds nothing, and opening
/// one logs that NIS lookups are disabled (once per table name: smtpd and local delivery open the same
/// alias_maps). With an NIS domain set, Edge cannot ask NIS and says so.
/// </summary>
internal sealed class NisTable : ILookupTable
{
    private const string DomainFile = "/proc/sys/kernel/domainname";
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> s_warned = new();

    public static ILookupTable? Open(string name, out string? error)
    {
        string domain = File.Exists(DomainFile) ? File.ReadAllText(DomainFile).Trim() : "";
        if (domain.Length > 0 && domain != "(none)")
        {
            error = $"nis:{name}: NIS lookups (domain {domain}) are not supported; list the entries in another table";
            return null;
        }
        error = null;
        if (s_warned.TryAdd(name, true))
        {
            Logging.MailLog.Warning($"nis:{name}: NIS domain name not set - NIS lookups disabled");
        }
        return new NisTable();
    }

    public string? Lookup(string key) => null;
}
