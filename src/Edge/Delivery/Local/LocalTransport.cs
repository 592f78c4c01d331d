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
            results.Add(await DeliverOneAsync(job, recipient, cancellationToken));
        }
        return results;
    }

    /// <summary>
    /// An address verification probe, answered as Postfix's local(8) answers one: an alias is "aliased to" its value, a
    /// user with an account or a luser_relay "delivers to mailbox", anyone else is an unknown user; nothing is written.
    /// </summary>
    public Task<IReadOnlyList<DeliveryResult>> VerifyAsync(DeliveryJob job, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<DeliveryResult>>([.. job.Recipients.Select(recipient =>
        {
            LocalRecipient to = LocalRecipient.Parse(job.Message.Recipients[recipient].Address, _settings.Delimiter);
            return _aliases.Failure is not null ? new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", _aliases.Failure, Relay)
                : to.User.Equals(_settings.DoubleBounce, StringComparison.OrdinalIgnoreCase) ? Sent(recipient, "discarded")
                : _aliases.Find([to.Local, to.User]) is { } alias ? Sent(recipient, $"aliased to {alias}")
                : _luserRelay is not null || UnixAccount.Lookup(to.User) is not null ? Sent(recipient, "delivers to mailbox")
                : _settings.FallbackTransport.Length > 0 ? Sent(recipient, $"delivers to {_settings.FallbackTransport}")
                : new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.1.1", $"unknown user: \"{to.User}\"", Relay);
        })]);

    private static DeliveryResult Sent(int recipient, string reason) => new(recipient, DeliveryStatus.Sent, "2.0.0", reason, Relay);

    private static DeliveryResult Result(int recipient, (DeliveryStatus Status, string Dsn, string Reason) outcome) =>
        new(recipient, outcome.Status, outcome.Dsn, outcome.Reason, Relay);

    private async Task<DeliveryResult> DeliverOneAsync(DeliveryJob job, int recipient, CancellationToken cancellationToken)
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
        var delivery = new LocalDelivery(_settings, job, recipient, to, async token => Outcome(await MailboxAsync(job, recipient, to, token)));
        if (_aliases.Find([to.Local, to.User], out string? table) is { } alias)
        {
            if (await LoopAsync(job, recipient, to, cancellationToken) is { } loop)
            {
                return loop;
            }
            (UnixUser? owner, string? problem) = AliasOwner(table);
            return problem is not null
                ? new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", problem, Relay)
                : await delivery.DeliverAsync(to.User, DestinationList.Parse(alias), ExpansionType.Alias, owner, cancellationToken);
        }
        if (UnixAccount.Lookup(to.User) is { } user && ForwardFile(to, user) is { } destinations)
        {
            return await LoopAsync(job, recipient, to, cancellationToken)
                ?? await delivery.DeliverAsync(to.User, destinations, ExpansionType.Forward, user, cancellationToken);
        }
        return await MailboxAsync(job, recipient, to, cancellationToken);
    }

    private static (DeliveryStatus, string, string) Outcome(DeliveryResult result) => (result.Status, result.Dsn, result.Reason);

    /// <summary>Mail that already passed through this recipient, as its Delivered-To: lines show, bounces: it is in a loop.</summary>
    private static async Task<DeliveryResult?> LoopAsync(DeliveryJob job, int recipient, LocalRecipient to, CancellationToken cancellationToken) =>
        (await DeliveredToHeaders.ReadAsync(job.CopyContentAsync, cancellationToken)).Contains(to.Address)
            ? new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.4.6", $"mail forwarding loop for {to.Address}", Relay)
            : null;

    /// <summary>
    /// Whose rights an alias's commands and files get: the owner of the alias file, or nobody's (null: default_privs)
    /// when root owns it or it is not a file (inline:, static:), as Postfix trusts a root-owned or built-in table.
    /// </summary>
    private static (UnixUser? Owner, string? Problem) AliasOwner(string? table)
    {
        string path = table?[(table.IndexOf(':') + 1)..] ?? "";
        if (!path.StartsWith('/'))
        {
            return (null, null);
        }
        try
        {
            using var file = File.OpenHandle(path);
            uint uid = FileStatus.Of(file).Uid;
            return uid == 0 ? (null, null)
                : UnixAccount.Lookup(uid) is { } owner ? (owner, null)
                : (null, $"cannot find alias database owner for {table}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"cannot find alias database owner for {table}: {e.Message}");
        }
    }

    /// <summary>
    /// The destinations of the user's first forward_path file that exists (read with the user's rights); null when there
    /// is none, it is empty, or it is not a regular file owned by the user (or root) and safe from other writers.
    /// </summary>
    private List<string>? ForwardFile(LocalRecipient to, UnixUser user)
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
                (string text, FileStatus status) = FileRights.As(user.Uid, user.Gid, () =>
                {
                    using var file = File.OpenHandle(path);
                    FileStatus found = FileStatus.Of(file);
                    using var reader = new StreamReader(new FileStream(file, FileAccess.Read));
                    return (found.IsRegular ? reader.ReadToEnd() : "", found);
                });
                string? problem = !status.IsRegular ? "is not a regular file"
                    : status.Uid != 0 && status.Uid != user.Uid ? $"has bad owner uid {status.Uid}"
                    : status.IsWorldWritable ? "is world writable"
                    : null;
                if (problem is not null)
                {
                    MailLog.Warning($"file {path} {problem}", Relay);
                    return null;
                }
                List<string> destinations = DestinationList.ParseLines(text);
                return destinations.Count > 0 ? destinations : null;
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
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
        if (await PassAsync(job, recipient, to, _settings.MailboxTransports, "mailbox_transport_maps", _settings.MailboxTransport, cancellationToken) is { } passed)
        {
            return passed;
        }
        if (UnixAccount.Lookup(to.User) is not { } user)
        {
            return await UnknownAsync(job, recipient, to, cancellationToken);
        }
        string? command = _settings.MailboxCommands.Find([to.User]);
        if (command is null && _settings.MailboxCommands.Failure is not null)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", "table lookup failure", Relay);
        }
        command ??= _settings.MailboxCommand;
        if (command.Length > 0)
        {
            UnixUser rights = user.Uid == 0 ? _settings.DefaultPrivileges : user;
            return Result(recipient, await CommandDestination.DeliverAsync(_settings, job, recipient, to, command, rights,
                to.Address.ToLowerInvariant(), cancellationToken));
        }
        string path = _settings.HomeMailbox.Length > 0
            ? Path.Combine(user.Home, _settings.HomeMailbox)
            : _settings.Spool.TrimEnd('/') + "/" + to.User + (_settings.Spool.EndsWith('/') ? "/" : "");
        return await MailboxFile.DeliverAsync(job, recipient, path, new MailboxOwner(user.Uid, user.Gid), _settings.Hostname, Relay, cancellationToken);
    }

    /// <summary>Postfix's deliver_unknown(): fallback_transport, luser_relay, or "unknown user".</summary>
    private async Task<DeliveryResult> UnknownAsync(DeliveryJob job, int recipient, LocalRecipient to, CancellationToken cancellationToken)
    {
        if (await PassAsync(job, recipient, to, _settings.FallbackTransports, "fallback_transport_maps", _settings.FallbackTransport, cancellationToken) is { } passed)
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

    /// <summary>
    /// Hands the recipient to the transport a *_transport_maps entry for the user, or else the *_transport parameter,
    /// names ("lmtp:unix:/run/dovecot/lmtp"; without a next hop, the local one), as Postfix's deliver_pass() does: that
    /// agent delivers it and its result is the recipient's. Null when neither names one.
    /// </summary>
    private async Task<DeliveryResult?> PassAsync(DeliveryJob job, int recipient, LocalRecipient to, TableList maps, string mapsName,
        string fallback, CancellationToken cancellationToken)
    {
        string? route = maps.Find([to.User]);
        if (route is null && maps.Failure is not null)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", $"{mapsName}: table lookup failure", Relay);
        }
        route ??= fallback;
        if (route.Length == 0)
        {
            return null;
        }
        int colon = route.IndexOf(':');
        string name = colon < 0 ? route : route[..colon];
        string nexthop = colon < 0 || colon == route.Length - 1 ? job.Nexthop : route[(colon + 1)..];
        if (_transports(name) is not { } transport)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", $"mail transport unavailable: {name}", Relay);
        }
        IReadOnlyList<DeliveryResult> results = await transport.DeliverAsync(job with { Recipients = [recipient], Nexthop = nexthop }, cancellationToken);
        return results[0] with { PassedTo = transport.Service };
    }
}
