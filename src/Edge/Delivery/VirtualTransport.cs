using System.Runtime.Versioning;
using Edge.Config;
using Edge.Delivery.Virtual;
using Edge.Queue;
using Edge.Tables;

namespace Edge.Delivery;

/// <summary>
/// virtual(8): delivers each recipient to the mailbox that virtual_mailbox_maps gives it under
/// virtual_mailbox_base — a Maildir when the path ends in "/", an mbox file otherwise — owned by the uid and
/// gid of virtual_uid_maps and virtual_gid_maps.
/// </summary>
internal sealed class VirtualTransport : ITransport
{
    private const string Relay = "virtual";

    private readonly string _base;
    private readonly IReadOnlyList<ILookupTable> _mailboxes;
    private readonly IReadOnlyList<ILookupTable> _uids;
    private readonly IReadOnlyList<ILookupTable> _gids;
    private readonly long _minimumUid;
    private readonly string _hostname;
    private readonly long _sizeLimit;

    public VirtualTransport(MainConfig main)
    {
        _base = main.Get("virtual_mailbox_base");
        _mailboxes = Open(main, "virtual_mailbox_maps");
        _uids = Open(main, "virtual_uid_maps");
        _gids = Open(main, "virtual_gid_maps");
        _minimumUid = main.GetInt("virtual_minimum_uid");
        _hostname = main.Get("myhostname");
        _sizeLimit = OperatingSystem.IsWindows() ? 0 : Local.LocalSettings.SizeLimit(main, "virtual_mailbox_limit");
    }

    public string Service => "virtual";

    public async Task<IReadOnlyList<DeliveryResult>> DeliverAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        var results = new List<DeliveryResult>(job.Recipients.Count);
        foreach (int recipient in job.Recipients)
        {
            results.Add(OperatingSystem.IsWindows()
                ? new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", "virtual delivery needs a Unix system", Relay)
                : await DeliverOneAsync(job, recipient, cancellationToken));
        }
        return results;
    }

    /// <summary>An address verification probe, as Postfix's virtual(8) answers one: a mailbox the map lists, or an unknown user.</summary>
    public async Task<IReadOnlyList<DeliveryResult>> VerifyAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        var results = new List<DeliveryResult>(job.Recipients.Count);
        foreach (int recipient in job.Recipients)
        {
            string address = job.Message.Recipients[recipient].Address;
            try
            {
                results.Add(await FindAsync(_mailboxes, address, cancellationToken) is null
                    ? new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.1.1", $"unknown user: \"{address}\"", Relay)
                    : new DeliveryResult(recipient, DeliveryStatus.Sent, "2.0.0", "delivers to mailbox", Relay));
            }
            catch (TableLookupException e)
            {
                results.Add(new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", e.Message, Relay));
            }
        }
        return results;
    }

    [UnsupportedOSPlatform("windows")]
    private async Task<DeliveryResult> DeliverOneAsync(DeliveryJob job, int recipient, CancellationToken cancellationToken)
    {
        try
        {
            return await DeliverFoundAsync(job, recipient, cancellationToken);
        }
        catch (TableLookupException e)
        {
            // This recipient waits; the others of the job keep what happened to them.
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0", e.Message, Relay);
        }
    }

    [UnsupportedOSPlatform("windows")]
    private async Task<DeliveryResult> DeliverFoundAsync(DeliveryJob job, int recipient, CancellationToken cancellationToken)
    {
        QueuedMessage message = job.Message;
        string address = message.Recipients[recipient].Address;
        string? mailbox = await FindAsync(_mailboxes, address, cancellationToken);
        if (mailbox is null)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Bounced, "5.1.1", $"unknown user: \"{address}\"", Relay);
        }
        if (await IdAsync(_uids, address, cancellationToken) is not { } uid || await IdAsync(_gids, address, cancellationToken) is not { } gid)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0",
                $"recipient {address}: uid or gid not found in virtual_uid_maps or virtual_gid_maps", Relay);
        }
        if (uid < _minimumUid)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.3.0",
                $"bad uid {uid} for {address}: below virtual_minimum_uid {_minimumUid}", Relay);
        }
        // The map's value is relative to the base even when it starts with "/", as Postfix joins the two.
        string path = _base.TrimEnd('/') + "/" + mailbox;
        return await MailboxFile.DeliverAsync(job, recipient, path, new MailboxOwner(uid, gid), _hostname, Relay, _sizeLimit, cancellationToken);
    }

    /// <summary>The full address first, then "@domain", as virtual(8) searches its maps (a server's answer awaited, no thread held).</summary>
    private static async ValueTask<string?> FindAsync(IReadOnlyList<ILookupTable> tables, string address, CancellationToken cancellationToken)
    {
        int at = address.LastIndexOf('@');
        foreach (string key in at < 0 ? [address] : (string[])[address, address[at..]])
        {
            foreach (ILookupTable table in tables)
            {
                if (await table.LookupAsync(key, cancellationToken) is { } value)
                {
                    return value;
                }
            }
        }
        return null;
    }

    private static async ValueTask<uint?> IdAsync(IReadOnlyList<ILookupTable> tables, string address, CancellationToken cancellationToken) =>
        await FindAsync(tables, address, cancellationToken) is { } value && uint.TryParse(value.Trim(), out uint id) ? id : null;

    private static List<ILookupTable> Open(MainConfig main, string parameter) =>
        [.. main.GetList(parameter).Select(reference => TableFactory.Open(reference, TableSettings.From(main), out string? error)
            ?? throw main.Error(parameter, error ?? $"cannot open {reference}"))];
}
