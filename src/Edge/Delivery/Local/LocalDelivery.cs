using System.Runtime.Versioning;
using Edge.Queue;
using Edge.Logging;
using Edge.Unix;

namespace Edge.Delivery.Local;

/// <summary>
/// The expansion of one local recipient's alias or .forward file, as Postfix's local(8) walks it: each destination
/// is an address (forwarded, all of them in one new queue file with a Delivered-To: line so that a loop is caught),
/// the recipient's own name (its mailbox), "|command", "/file" or "~/file" (delivered at once with the rights of
/// whoever the destination came from), or ":include:/path" (read with those rights, its lines expanded the same way).
/// allow_mail_to_commands and allow_mail_to_files say where commands and files may come from. Any deferral defers the
/// recipient and forwards nothing (commands and files that succeeded may run again, as Postfix warns); a bounce
/// bounces the recipient after the rest are delivered.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal sealed class LocalDelivery(LocalSettings settings, DeliveryJob job, int recipient, LocalRecipient to,
    Func<CancellationToken, Task<DeliveryResult>> mailboxAsync)
{
    private const string Service = "local";

    /// <summary>Include files nested deeper than this are a loop the duplicate check did not catch.</summary>
    private const int MaxDepth = 100;

    private readonly List<string> _forward = [];
    private readonly List<string> _delivered = [];
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private (DeliveryStatus Status, string Dsn, string Reason)? _deferred;
    private (DeliveryStatus Status, string Dsn, string Reason)? _bounced;
    private bool _mailbox;

    /// <summary>
    /// The extension ("+lists") that the alias or .forward found did not match, which propagate_unmatched_extensions
    /// gives to the addresses it lists; null for none.
    /// </summary>
    private string? _unmatched;

    /// <summary>Delivers to <paramref name="destinations"/>, found as <paramref name="type"/> of <paramref name="name"/>.</summary>
    /// <param name="matched">Whether what was found was found for the address with its extension (an alias "ann+lists", ~/.forward+lists).</param>
    public async Task<DeliveryResult> DeliverAsync(string name, IEnumerable<string> destinations, ExpansionType type, UnixUser? rights,
        bool matched, CancellationToken cancellationToken)
    {
        _unmatched = !matched && to.Extension.Length > 0 && (settings.Propagate & type) != 0 ? to.Delimiter + to.Extension : null;
        foreach (string destination in destinations)
        {
            await DestinationAsync(name, destination, type, rights, 0, cancellationToken);
        }
        if (_deferred is { } deferred)
        {
            return Result(deferred);
        }
        if (_mailbox)
        {
            DeliveryResult own = await mailboxAsync(cancellationToken);
            Record((own.Status, own.Dsn, own.Reason));
            if (_deferred is { } failed)
            {
                return Result(failed);
            }
        }
        if (_forward.Count > 0)
        {
            string header = settings.DeliveredHeader.Forward ? $"Delivered-To: {Delivered}\r\n" : "";
            _delivered.Add($"forwarded as {await job.ForwardAsync(_forward, header, cancellationToken)}");
        }
        if (_bounced is { } bounced)
        {
            return Result(bounced);
        }
        return _delivered.Count == 0
            ? new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.1.1", $"alias {name} expands to nothing", Service)
            : new DeliveryResult(recipient, DeliveryStatus.Sent, "2.0.0", string.Join("; ", _delivered), Service);
    }

    /// <summary>The final recipient, as Delivered-To: lines name it.</summary>
    private string Delivered => to.Address.ToLowerInvariant();

    private async Task DestinationAsync(string name, string destination, ExpansionType type, UnixUser? rights, int depth,
        CancellationToken cancellationToken)
    {
        if (destination.StartsWith(":include:", StringComparison.OrdinalIgnoreCase))
        {
            await IncludeAsync(name, destination[9..].Trim(), rights, depth, cancellationToken);
            return;
        }
        switch (destination[0])
        {
            case '|':
                Record((settings.Commands & type) == 0
                    ? (DeliveryStatus.Bounced, "5.7.1", "mail to command is restricted")
                    : Once($"command {rights?.Uid ?? 0} {destination}")
                        ? await CommandDestination.DeliverAsync(settings, job, recipient, to, destination[1..].Trim(), Privileges(rights), Delivered, cancellationToken)
                        : null);
                return;
            case '/':
                await FileAsync(destination, type, rights, cancellationToken);
                return;
            case '~':
                if (!destination.StartsWith("~/") || rights is null)
                {
                    MailLog.Warning($"{(rights is null ? "unknown home directory" : "bad home directory syntax")} for: {destination}", Service);
                    Record((DeliveryStatus.Bounced, "5.3.5", "mail system configuration error"));
                    return;
                }
                await FileAsync(rights.Home.TrimEnd('/') + destination[1..], type, rights, cancellationToken);
                return;
        }
        string address = destination.TrimStart('\\');
        int at = address.LastIndexOf('@');
        // The name itself, bare or as a local address, is its own mailbox rather than another round of expansion.
        if ((at < 0 ? address : address[..at]).Equals(name, StringComparison.OrdinalIgnoreCase)
            && (at < 0 || address[(at + 1)..].Equals(to.Domain, StringComparison.OrdinalIgnoreCase)))
        {
            _mailbox = true;
            return;
        }
        string qualified = at < 0 ? $"{address}@{settings.Origin}" : address;
        int domain = qualified.LastIndexOf('@');
        _forward.Add(_unmatched is null ? qualified : qualified[..domain] + _unmatched + qualified[domain..]);
    }

    private async Task FileAsync(string path, ExpansionType type, UnixUser? rights, CancellationToken cancellationToken)
    {
        UnixUser privileges = Privileges(rights);
        Record((settings.Files & type) == 0
            ? (DeliveryStatus.Bounced, "5.7.1", "mail to file is restricted")
            : Once($"file {privileges.Uid} {path}")
                ? await FileDestination.DeliverAsync(settings, job, recipient, path, privileges, Delivered, cancellationToken)
                : null);
    }

    /// <summary>
    /// An :include: file: an absolute path to a regular file that is not world-writable, read with the rights of where it
    /// was named; in a root-owned alias it brings its own owner's rights, so that nobody gets root's or default_privs'.
    /// </summary>
    private async Task IncludeAsync(string name, string path, UnixUser? rights, int depth, CancellationToken cancellationToken)
    {
        if (!Once($"include {rights?.Uid ?? 0} {path}"))
        {
            return;
        }
        if (!path.StartsWith('/') || depth >= MaxDepth)
        {
            MailLog.Warning(depth >= MaxDepth ? $":include:{path} nested more than {MaxDepth} deep" : $":include:{path} uses a relative path", Service);
            Record((DeliveryStatus.Bounced, "5.3.5", "mail system configuration error"));
            return;
        }
        if (rights is not null && !FileRights.CanAct(rights.Uid))
        {
            Record((DeliveryStatus.Deferred, "4.3.0", $"cannot read :include: file {path} as uid {rights.Uid}: Edge is not running as root"));
            return;
        }
        string? text;
        FileStatus status;
        try
        {
            (text, status) = UserFile.Read(path, rights?.Uid ?? 0, rights?.Gid ?? 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            MailLog.Warning($"cannot open include file {path}: {e.Message}", Service);
            Record((DeliveryStatus.Bounced, "5.3.5", "mail system configuration error"));
            return;
        }
        if (text is null || status.IsWorldWritable)
        {
            MailLog.Warning($":include: file {path} is {(!status.IsRegular ? "not a regular file" : status.IsWorldWritable ? "world writable" : $"larger than {UserFile.Limit} bytes")}", Service);
            Record((DeliveryStatus.Bounced, "5.3.5", "mail system configuration error"));
            return;
        }
        if (rights is null || rights.Uid == 0)
        {
            UnixUser? owner;
            try
            {
                owner = UnixAccount.Lookup(status.Uid);
            }
            catch (IOException e)
            {
                MailLog.Warning($"error looking up passwd info for uid {status.Uid}: {e.Message}", Service);
                Record((DeliveryStatus.Deferred, "4.0.0", "user lookup error"));
                return;
            }
            if (owner is null)
            {
                MailLog.Warning($"{path}: cannot find :include: file owner username for uid {status.Uid}", Service);
                Record((DeliveryStatus.Deferred, "4.3.5", "mail system configuration error"));
                return;
            }
            rights = owner.Uid == 0 ? rights : owner;
        }
        string? outer = _unmatched;
        _unmatched = (settings.Propagate & ExpansionType.Include) != 0 ? outer : null;
        foreach (string destination in DestinationList.ParseLines(text))
        {
            await DestinationAsync(name, destination, ExpansionType.Include, rights, depth + 1, cancellationToken);
        }
        _unmatched = outer;
    }

    /// <summary>The rights a command or file runs with: the user's, or default_privs' where there is no user or it is root.</summary>
    private UnixUser Privileges(UnixUser? rights) => rights is null || rights.Uid == 0 ? settings.DefaultPrivileges : rights;

    /// <summary>Whether this destination is new for this recipient: each is delivered to once, as Postfix's duplicate filter does.</summary>
    private bool Once(string key) => _seen.Add(key);

    private void Record((DeliveryStatus Status, string Dsn, string Reason)? outcome)
    {
        switch (outcome?.Status)
        {
            case DeliveryStatus.Deferred:
                _deferred ??= outcome;
                break;
            case DeliveryStatus.Bounced:
                _bounced ??= outcome;
                break;
            case DeliveryStatus.Sent:
                _delivered.Add(outcome.Value.Reason);
                break;
        }
    }

    private DeliveryResult Result((DeliveryStatus Status, string Dsn, string Reason) outcome) =>
        new(recipient, outcome.Status, outcome.Dsn, outcome.Reason, Service);
}
