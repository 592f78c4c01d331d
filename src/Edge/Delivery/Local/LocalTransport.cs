using System.Runtime.Versioning;
using Edge.Config;
using Edge.Delivery.Virtual;
using Edge.Logging;
using Edge.Mail;
using Edge.Queue;
using Edge.Tables;
using Edge.Unix;

namespace Edge.Delivery.Local;

/// <summary>
/// local(8): a recipient's local part, folded to lower case and without its extension, is looked up in order as
/// Postfix's local delivery agent does. An alias_maps entry is expanded (<see cref="LocalDelivery"/>) with the rights
/// of the alias file's owner, or default_privs when root owns it; otherwise the user's .forward file (forward_path)
/// with the user's rights; otherwise the mailbox: mailbox_transport_maps or mailbox_transport take it over (Dovecot
/// LMTP, say), then mailbox_command_maps or mailbox_command run as the user, then $home/$home_mailbox or the
/// mail_spool_directory file or Maildir. A user without an account goes to fallback_transport_maps,
/// fallback_transport or luser_relay, and bounces otherwise. An alias table that cannot be opened (a missing
/// /etc/aliases) defers everything, as Postfix defers on a table lookup failure: a user might have an alias there,
/// so neither delivery nor "unknown user" is safe.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal sealed class LocalTransport : ITransport
{
    private const string Relay = "local";

    private readonly LocalSettings _settings;
    private readonly TableList _aliases;
    private readonly LuserRelay? _luserRelay;
    private readonly Func<string, ITransport?> _transports;

    /// <param name="main">The main.cf the local service's master.cf line makes.</param>
    /// <param name="transports">The agents behind master.cf's services, for mailbox_transport and fallback_transport.</param>
    public LocalTransport(MainConfig main, Func<string, ITransport?> transports)
    {
        _settings = LocalSettings.From(main);
        _luserRelay = LuserRelay.From(main);
        _aliases = TableList.Open(main, "alias_maps");
        _transports = transports;
    }

    public string Service => "local";

    public async Task<IReadOnlyList<DeliveryResult>> DeliverAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        var results = new List<DeliveryResult>(job.Recipients.Count);
        foreach (int recipient in job.Recipients)
        {
            results.Add(await GuardedAsync(job, recipient, DeliverOneAsync, cancellationToken));
        }
        return results;
    }

    /// <summary>
    /// An address verification probe, answered as Postfix's local(8) answers one: an alias is "aliased to" its value, a
    /// recipient mailbox_transport or fallback_transport takes is the answer of that transport's agent, a user with an
    /// account or a luser_relay "delivers to mailbox", anyone else is an unknown user; nothing is written.
    /// </summary>
    public async Task<IReadOnlyList<DeliveryResult>> VerifyAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        var results = new List<DeliveryResult>(job.Recipients.Count);
        foreach (int recipient in job.Recipients)
        {
            results.Add(await GuardedAsync(job, recipient, VerifyOneAsync, cancellationToken));
        }
        return results;
    }

    private async Task<DeliveryResult> VerifyOneAsync(DeliveryJob job, int recipient, LocalRecipient to, CancellationToken cancellationToken) =>
        (await _aliases.FindAsync([to.Local, to.User], cancellationToken)).Value is { } alias ? Sent(recipient, $"aliased to {alias}")
            : await PassAsync(job, recipient, to, Mailbox, verify: true, cancellationToken) is { } passed ? passed
            : User(to.User) is not null ? Sent(recipient, "delivers to mailbox")
            : await PassAsync(job, recipient, to, Fallback, verify: true, cancellationToken) is { } fallback ? fallback
            : _luserRelay is not null ? Sent(recipient, "delivers to mailbox")
            : new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.1.1", $"unknown user: \"{to.User}\"", Relay);

    private static DeliveryResult Sent(int recipient, string reason) => new(recipient, DeliveryStatus.Sent, "2.0.0", reason, Relay);

    private static DeliveryResult Result(int recipient, (DeliveryStatus Status, string Dsn, string Reason) outcome) =>
        new(recipient, outcome.Status, outcome.Dsn, outcome.Reason, Relay);

    /// <summary>
    /// What every recipient goes through first: an alias table that failed defers, the double-bounce address is
    /// discarded, and what local(8) cannot have now (the password database, a right, a table's answer) defers the
    /// recipient.
    /// </summary>
    private async Task<DeliveryResult> GuardedAsync(DeliveryJob job, int recipient,
        Func<DeliveryJob, int, LocalRecipient, CancellationToken, Task<DeliveryResult>> deliver, CancellationToken cancellationToken)
    {
        if (_aliases.Failure is not null)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", _aliases.Failure, Relay);
        }
        LocalRecipient to = LocalRecipient.Parse(job.Message.Recipients[recipient].Address, _settings.Delimiter);
        // Mail to the double-bounce address is a notice that failed twice: dropped, as Postfix's local does.
        if (to.User.Equals(_settings.DoubleBounce, StringComparison.OrdinalIgnoreCase))
        {
            return Sent(recipient, "discarded");
        }
        try
        {
            return await deliver(job, recipient, to, cancellationToken);
        }
        catch (LocalDeferralException e)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, e.Dsn, e.Message, Relay);
        }
        catch (TableLookupException e)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", e.Message, Relay);
        }
    }

    private async Task<DeliveryResult> DeliverOneAsync(DeliveryJob job, int recipient, LocalRecipient to, CancellationToken cancellationToken)
    {
        if (await _aliases.FindAsync([to.Local, to.User], cancellationToken) is ({ } alias, string table))
        {
            if (await LoopAsync(job, recipient, to, cancellationToken) is { } loop)
            {
                return loop;
            }
            (UnixUser? owner, string? problem) = AliasOwner(table);
            if (problem is not null)
            {
                return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", problem, Relay);
            }
            bool matched = to.Extension.Length == 0 || (await _aliases.FindAsync([to.Local], cancellationToken)).Value is not null;
            // The alias's own name goes on as if it had no alias: to the user's .forward, then the mailbox.
            return await new LocalDelivery(_settings, job, recipient, to, token => ForwardOrMailboxAsync(job, recipient, to, token))
                .DeliverAsync(to.User, DestinationList.Parse(alias), ExpansionType.Alias, owner, matched, cancellationToken);
        }
        return await ForwardOrMailboxAsync(job, recipient, to, cancellationToken);
    }

    private async Task<DeliveryResult> ForwardOrMailboxAsync(DeliveryJob job, int recipient, LocalRecipient to, CancellationToken cancellationToken) =>
        await LoopOrForwardAsync(job, recipient, to, cancellationToken) ?? await MailboxAsync(job, recipient, to, cancellationToken);

    /// <summary>The user's .forward file expanded with the user's rights (its own name there is the mailbox); null when there is none.</summary>
    private async Task<DeliveryResult?> LoopOrForwardAsync(DeliveryJob job, int recipient, LocalRecipient to, CancellationToken cancellationToken)
    {
        if (User(to.User) is not { } user || ForwardFile(to, user) is not { } forward)
        {
            return null;
        }
        return await LoopAsync(job, recipient, to, cancellationToken)
            ?? await new LocalDelivery(_settings, job, recipient, to, token => MailboxAsync(job, recipient, to, token))
                .DeliverAsync(to.User, forward.Destinations, ExpansionType.Forward, user, forward.Matched, cancellationToken);
    }

    /// <summary>The user's account; a password database that cannot answer (sssd or LDAP down) defers, as in Postfix, rather than bounce.</summary>
    private static UnixUser? User(string name)
    {
        try
        {
            return UnixAccount.Lookup(name);
        }
        catch (IOException e)
        {
            MailLog.Warning($"error looking up passwd info for {name}: {e.Message}", Relay);
            throw new LocalDeferralException("4.0.0", "user lookup error");
        }
    }

    /// <summary>Mail that already passed through this recipient, as its Delivered-To: lines show, bounces: it is in a loop.</summary>
    private static async Task<DeliveryResult?> LoopAsync(DeliveryJob job, int recipient, LocalRecipient to, CancellationToken cancellationToken) =>
        (await DeliveredToHeaders.ReadAsync(job.CopyContentAsync, cancellationToken)).Contains(to.Address)
            ? new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.4.6", $"mail forwarding loop for {to.Address}", Relay)
            : null;

    /// <summary>
    /// Whose rights an alias's commands and files get: the owner of the alias file, or nobody's (null: default_privs)
    /// when root owns it or it is not a file (inline:, static:), as Postfix trusts a root-owned or built-in table. A
    /// composite (unionmap:{…}, proxy:) is as trusted as its files together: one owner other than root gives that
    /// owner's rights, two different ones cannot be told apart and defer.
    /// </summary>
    private static (UnixUser? Owner, string? Problem) AliasOwner(string? table)
    {
        var owners = new HashSet<uint>();
        foreach (System.Text.RegularExpressions.Match file in System.Text.RegularExpressions.Regex.Matches(table ?? "", @"(?<=:)/[^,\s{}]+"))
        {
            try
            {
                uint uid = FileStatus.OfTarget(file.Value).Uid;
                if (uid != 0)
                {
                    owners.Add(uid);
                }
            }
            catch (IOException e)
            {
                return (null, $"cannot find alias database owner for {table}: {e.Message}");
            }
        }
        if (owners.Count == 0)
        {
            return (null, null);
        }
        if (owners.Count > 1)
        {
            return (null, $"alias database {table} has files of different owners ({string.Join(", ", owners)})");
        }
        try
        {
            return UnixAccount.Lookup(owners.Single()) is { } owner ? (owner, null) : (null, $"cannot find alias database owner for {table}");
        }
        catch (IOException e)
        {
            return (null, $"cannot find alias database owner for {table}: {e.Message}");
        }
    }

    /// <summary>
    /// The destinations of the user's first forward_path file that exists (found and read with the user's rights); null
    /// when there is none, it is empty, or it is not a regular file (a symbolic link is not) owned by the user (or
    /// root) and safe from other writers, as Postfix's dotforward.c has it.
    /// </summary>
    /// <returns>The destinations, and whether the file was the one for the address's extension ($extension in its name).</returns>
    private (List<string> Destinations, bool Matched)? ForwardFile(LocalRecipient to, UnixUser user)
    {
        foreach (string entry in _settings.ForwardPath)
        {
            string path = LocalExpansion.Expand(entry, to.Attributes(user), _settings.ForwardFilter, out bool undefined);
            if (undefined)
            {
                continue;
            }
            try
            {
                FileStatus named = FileRights.As(user.Uid, user.Gid, () => FileStatus.OfName(path));
                if (!FileRights.CanAct(user.Uid))
                {
                    throw new LocalDeferralException("4.3.0", $"cannot read {path} as uid {user.Uid}: Edge is not running as root");
                }
                (string? text, FileStatus opened) = named.IsRegular ? UserFile.Read(path, user.Uid, user.Gid) : (null, named);
                string? problem = !opened.IsRegular ? "is not a regular file"
                    : (opened.Device, opened.Inode) != (named.Device, named.Inode) ? "was replaced while it was read"
                    : opened.Uid != 0 && opened.Uid != user.Uid ? $"has bad owner uid {opened.Uid}"
                    : opened.IsWorldWritable ? "is world writable"
                    : text is null ? $"is larger than {UserFile.Limit} bytes"
                    : null;
                if (problem is not null)
                {
                    MailLog.Warning($"file {path} {problem}", Relay);
                    return null;
                }
                List<string> destinations = DestinationList.ParseLines(text!);
                return destinations.Count > 0 ? (destinations, to.Extension.Length == 0 || entry.Contains("extension", StringComparison.Ordinal)) : null;
            }
            catch (FileNotFoundException)
            {
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                MailLog.Warning($"cannot open file {path}: {e.Message}", Relay);
                return null;
            }
        }
        return null;
    }

    /// <summary>Postfix's deliver_mailbox(): another transport, the mailbox command, or the mailbox file; unknown users after.</summary>
    private async Task<DeliveryResult> MailboxAsync(DeliveryJob job, int recipient, LocalRecipient to, CancellationToken cancellationToken)
    {
        if (await PassAsync(job, recipient, to, Mailbox, verify: false, cancellationToken) is { } passed)
        {
            return passed;
        }
        if (User(to.User) is not { } user)
        {
            return await UnknownAsync(job, recipient, to, cancellationToken);
        }
        string? command = (await _settings.MailboxCommands.FindAsync([to.User], cancellationToken)).Value;
        command ??= _settings.MailboxCommand;
        if (command.Length > 0)
        {
            UnixUser rights = user.Uid == 0 ? _settings.DefaultPrivileges : user;
            return Result(recipient, await CommandDestination.DeliverAsync(_settings, job, recipient, to, command, rights,
                to.Address.ToLowerInvariant(), cancellationToken));
        }
        (string path, MailboxOwner owner) = _settings.HomeMailbox.Length > 0
            // In the user's own directory every step is taken with the user's rights, so that a link the user made there
            // reaches nothing the user could not write, as Postfix's local(8) switches to the user.
            ? (Path.Combine(user.Home, _settings.HomeMailbox), MailboxOwner.Impersonating(user.Uid, user.Gid))
            : (_settings.Spool.TrimEnd('/') + "/" + to.User + (_settings.Spool.EndsWith('/') ? "/" : ""), new MailboxOwner(user.Uid, user.Gid));
        return await MailboxFile.DeliverAsync(job, recipient, path, owner, _settings.Hostname, Relay, _settings.MailboxSizeLimit, cancellationToken);
    }

    /// <summary>Postfix's deliver_unknown(): fallback_transport, luser_relay, or "unknown user".</summary>
    private async Task<DeliveryResult> UnknownAsync(DeliveryJob job, int recipient, LocalRecipient to, CancellationToken cancellationToken)
    {
        if (await PassAsync(job, recipient, to, Fallback, verify: false, cancellationToken) is { } passed)
        {
            return passed;
        }
        if (_luserRelay is not null)
        {
            string relay = _luserRelay.For(to);
            if (!relay.Equals(to.Address, StringComparison.OrdinalIgnoreCase))
            {
                QueueId copy = await job.ForwardAsync([relay], $"Delivered-To: {to.Address.ToLowerInvariant()}\r\n", cancellationToken);
                return Sent(recipient, $"forwarded as {copy}");
            }
        }
        else if (to.User is "postmaster" or "mailer-daemon")
        {
            MailLog.Warning($"required alias not found: {to.User}", Relay);
            return Sent(recipient, "discarded");
        }
        return new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.1.1", $"unknown user: \"{to.User}\"", Relay);
    }

    /// <summary>mailbox_transport_maps and mailbox_transport, or fallback_transport_maps and fallback_transport.</summary>
    private readonly record struct PassRule(TableList Maps, string MapsName, string Transport);

    private PassRule Mailbox => new(_settings.MailboxTransports, "mailbox_transport_maps", _settings.MailboxTransport);

    private PassRule Fallback => new(_settings.FallbackTransports, "fallback_transport_maps", _settings.FallbackTransport);

    /// <summary>
    /// Hands the recipient to the transport a *_transport_maps entry for the user, or else the *_transport parameter,
    /// names ("lmtp:unix:/run/dovecot/lmtp"; without a next hop, the local one), as Postfix's deliver_pass() does: that
    /// agent delivers it (or answers the probe) and its result is the recipient's. Null when neither names one.
    /// </summary>
    private async Task<DeliveryResult?> PassAsync(DeliveryJob job, int recipient, LocalRecipient to, PassRule rule, bool verify,
        CancellationToken cancellationToken)
    {
        string route = (await rule.Maps.FindAsync([to.User], cancellationToken)).Value ?? rule.Transport;
        if (route.Length == 0)
        {
            return null;
        }
        int colon = route.IndexOf(':');
        string name = colon < 0 ? route : route[..colon];
        string nexthop = colon < 0 || colon == route.Length - 1 ? job.Nexthop : route[(colon + 1)..];
        ITransport? transport = _transports(name);
        if (transport is null or LocalTransport)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0",
                transport is null ? $"mail transport unavailable: {name}" : $"{rule.MapsName} names {name}, which is local(8) itself", Relay);
        }
        DeliveryJob passed = job with { Recipients = [recipient], Nexthop = nexthop };
        IReadOnlyList<DeliveryResult> results = verify
            ? await transport.VerifyAsync(passed, cancellationToken)
            : await transport.DeliverAsync(passed, cancellationToken);
        return results[0] with { PassedTo = transport.Service };
    }
}
