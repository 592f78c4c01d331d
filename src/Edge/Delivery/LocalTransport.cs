using System.Runtime.Versioning;
using Edge.Config;
using Edge.Delivery.Virtual;
using Edge.Mail;
using Edge.Queue;
using Edge.Tables;

namespace Edge.Delivery;

/// <summary>
/// local(8) for the system's own users: the recipient's local part, folded to lower case and without its
/// extension, must be an account in the password database; its mail goes to $home/$home_mailbox when
/// home_mailbox is set (a Maildir when it ends in "/"), otherwise to an mbox under mail_spool_directory,
/// owned by the user. A name that alias_maps lists is expanded instead: its addresses get a copy of the
/// message (a new queue file with "Delivered-To: recipient" in front, as Postfix's forwarding writes it, so
/// that a loop is caught and bounced), its own name or "\name" the mailbox. Command, file and :include:
/// destinations are not built and defer. An alias table that cannot be opened (a missing /etc/aliases)
/// defers everything, as Postfix defers on a table lookup failure: a user might have an alias there, so
/// neither delivery nor "unknown user" is safe. Mail for a user without an account goes to luser_relay when it is
/// set (as a forwarded copy), and bounces otherwise.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal sealed class LocalTransport : ITransport
{
    private const string Relay = "local";

    private readonly string _spool;
    private readonly string _homeMailbox;
    private readonly string _delimiter;
    private readonly string _hostname;
    private readonly string _origin;
    private readonly string _doubleBounce;
    private readonly TableList _aliases;
    private readonly LuserRelay? _luserRelay;

    public LocalTransport(MainConfig main)
    {
        _luserRelay = LuserRelay.From(main);
        _spool = main.Get("mail_spool_directory");
        _homeMailbox = main.Get("home_mailbox");
        _delimiter = main.Get("recipient_delimiter");
        _hostname = main.Get("myhostname");
        _origin = main.Get("myorigin");
        _doubleBounce = main.Get("double_bounce_sender");
        _aliases = TableList.Open(main, "alias_maps");
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
            (string local, int extension, string user) = Split(job.Message.Recipients[recipient].Address);
            return _aliases.Failure is not null ? new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", _aliases.Failure, Relay)
                : user.Equals(_doubleBounce, StringComparison.OrdinalIgnoreCase) ? new DeliveryResult(recipient, DeliveryStatus.Sent, "2.0.0", "discarded", Relay)
                : _aliases.Find([local, user]) is { } alias ? new DeliveryResult(recipient, DeliveryStatus.Sent, "2.0.0", $"aliased to {alias}", Relay)
                : _luserRelay is not null || UnixAccount.Lookup(user) is not null ? new DeliveryResult(recipient, DeliveryStatus.Sent, "2.0.0", "delivers to mailbox", Relay)
                : new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.1.1", $"unknown user: \"{user}\"", Relay);
        })]);

    /// <summary>The local part in lower case, where its extension starts (-1: none), and the user without it.</summary>
    private (string Local, int Extension, string User) Split(string address)
    {
        int at = address.LastIndexOf('@');
        string local = (at < 0 ? address : address[..at]).ToLowerInvariant();
        int extension = _delimiter.Length == 0 ? -1 : local.IndexOfAny(_delimiter.ToCharArray());
        return (local, extension, extension < 0 ? local : local[..extension]);
    }

    private async Task<DeliveryResult> DeliverOneAsync(DeliveryJob job, int recipient, CancellationToken cancellationToken)
    {
        if (_aliases.Failure is not null)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", _aliases.Failure, Relay);
        }
        string address = job.Message.Recipients[recipient].Address;
        (string local, int extension, string user) = Split(address);
        // Mail to the double-bounce address is a notice that failed twice: dropped, as Postfix's local does.
        if (user.Equals(_doubleBounce, StringComparison.OrdinalIgnoreCase))
        {
            return new DeliveryResult(recipient, DeliveryStatus.Sent, "2.0.0", "discarded", Relay);
        }
        if (_aliases.Find([local, user]) is { } alias)
        {
            return await ExpandAsync(job, recipient, user, alias, cancellationToken);
        }
        if (_luserRelay is not null && UnixAccount.Lookup(user) is null)
        {
            string relay = _luserRelay.For(address, user, extension < 0 ? "" : local[(extension + 1)..], extension < 0 ? "" : local[extension].ToString());
            QueueId copy = await job.ForwardAsync([relay], $"Delivered-To: {address.ToLowerInvariant()}\r\n", cancellationToken);
            return new DeliveryResult(recipient, DeliveryStatus.Sent, "2.0.0", $"forwarded as {copy}", Relay);
        }
        return await DeliverToMailboxAsync(job, recipient, user, cancellationToken);
    }

    private async Task<DeliveryResult> ExpandAsync(DeliveryJob job, int recipient, string name, string alias, CancellationToken cancellationToken)
    {
        string address = job.Message.Recipients[recipient].Address;
        var forward = new List<string>();
        bool mailbox = false;
        foreach (string item in alias.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (item[0] is '|' or '/' || item.StartsWith(":include:", StringComparison.OrdinalIgnoreCase))
            {
                return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0",
                    $"alias {name}: destination \"{item}\": commands, files and :include: are not supported by Edge", Relay);
            }
            // The alias's own name (or "\name") is its mailbox, not another round of expansion.
            string target = item.TrimStart('\\');
            if (target.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                mailbox = true;
                continue;
            }
            forward.Add(target.Contains('@') ? target : $"{target}@{_origin}");
        }
        if ((await DeliveredToHeaders.ReadAsync(job.CopyContentAsync, cancellationToken)).Contains(address))
        {
            return new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.4.6", $"mail forwarding loop for {address}", Relay);
        }
        if (mailbox)
        {
            DeliveryResult own = await DeliverToMailboxAsync(job, recipient, name, cancellationToken);
            if (own.Status != DeliveryStatus.Sent || forward.Count == 0)
            {
                return own;
            }
        }
        if (forward.Count == 0)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.1.1", $"alias {name} expands to nothing", Relay);
        }
        QueueId copy = await job.ForwardAsync(forward, $"Delivered-To: {address.ToLowerInvariant()}\r\n", cancellationToken);
        return new DeliveryResult(recipient, DeliveryStatus.Sent, "2.0.0", $"forwarded as {copy}", Relay);
    }

    private async Task<DeliveryResult> DeliverToMailboxAsync(DeliveryJob job, int recipient, string user, CancellationToken cancellationToken)
    {
        if (UnixAccount.Lookup(user) is not { } account)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.1.1", $"unknown user: \"{user}\"", Relay);
        }
        string path = _homeMailbox.Length > 0
            ? Path.Combine(account.Home, _homeMailbox)
            : _spool.TrimEnd('/') + "/" + user + (_spool.EndsWith('/') ? "/" : "");
        return await MailboxFile.DeliverAsync(job, recipient, path, new MailboxOwner(account.Uid, account.Gid), _hostname, Relay, cancellationToken);
    }
}
