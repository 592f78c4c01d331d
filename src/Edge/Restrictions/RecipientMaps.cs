using Edge.Config;
using Edge.Resolve;
using Edge.Tables;

namespace Edge.Restrictions;

/// <summary>
/// Whether an address in a domain Edge answers for names somebody (Postfix's check_rcpt_maps, behind
/// reject_unlisted_recipient, reject_unlisted_sender and smtpd_reject_unlisted_recipient): a local address must
/// be in local_recipient_maps, a virtual alias address in virtual_alias_maps, a virtual mailbox address in
/// virtual_mailbox_maps, a relay address in relay_recipient_maps; an empty map list accepts every address of its
/// class. An address a virtual alias or canonical table names is always known (cleanup rewrites it to one that
/// is), and so are postmaster, MAILER-DAEMON and the double-bounce address of local domains. A relocated user
/// (relocated_maps) is refused with "User has moved to …", whatever the domain.
/// </summary>
internal sealed class RecipientMaps
{
    private readonly TableList _local;
    private readonly TableList _virtualAlias;
    private readonly TableList _virtualMailbox;
    private readonly TableList _relay;
    private readonly AddressMap[] _recipientCanonical;
    private readonly AddressMap[] _senderCanonical;
    private readonly RelocatedMaps _relocated;
    private readonly byte[][] _alwaysKnown;
    private readonly char[] _delimiters;

    private RecipientMaps(MainConfig config, AddressClassifier classifier)
    {
        var canonical = new AddressMap(config, "canonical_maps", classifier, "canonical");
        var recipientCanonical = new AddressMap(config, "recipient_canonical_maps", classifier, "canonical");
        _recipientCanonical = [.. new[] { recipientCanonical, canonical }.Where(m => !m.IsEmpty)];
        _senderCanonical = [.. new[] { recipientCanonical, new AddressMap(config, "sender_canonical_maps", classifier, "canonical"), canonical }
            .Where(m => !m.IsEmpty)];
        _relocated = new RelocatedMaps(config, classifier);
        _local = TableList.Open(config, "local_recipient_maps");
        _virtualAlias = TableList.Open(config, "virtual_alias_maps");
        _virtualMailbox = TableList.Open(config, "virtual_mailbox_maps");
        _relay = TableList.Open(config, "relay_recipient_maps");
        _alwaysKnown = ["postmaster"u8.ToArray(), "mailer-daemon"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes(config.Get("double_bounce_sender"))];
        _delimiters = config.Get("recipient_delimiter").ToCharArray();
        LocalRejectCode = config.GetInt("unknown_local_recipient_reject_code");
        VirtualAliasRejectCode = config.GetInt("unknown_virtual_alias_reject_code");
        VirtualMailboxRejectCode = config.GetInt("unknown_virtual_mailbox_reject_code");
        RelayRejectCode = config.GetInt("unknown_relay_recipient_reject_code");
        ShowTableName = config.GetBool("show_user_unknown_table_name");
    }

    public static RecipientMaps Open(MainConfig config, AddressClassifier classifier) => new(config, classifier);

    private int LocalRejectCode { get; }
    private int VirtualAliasRejectCode { get; }
    private int VirtualMailboxRejectCode { get; }
    private int RelayRejectCode { get; }
    private bool ShowTableName { get; }

    /// <summary>
    /// Dunno for a known address (or one of a class without a list); a 5XX "User unknown", or 451 when a table
    /// could not be read. The address stays bytes until a table must be asked: mail to postmaster, or to a class
    /// without a list, costs no allocation.
    /// </summary>
    public Decision Check(ReadOnlySpan<byte> address, AddressClass addressClass, Subject subject, scoped in CheckContext c)
    {
        if (address.IsEmpty)
        {
            return Decision.Dunno;
        }
        if (!_relocated.IsEmpty && Relocated(address, addressClass, subject, c) is { } moved)
        {
            return moved;
        }
        if (addressClass == AddressClass.Default)
        {
            return Decision.Dunno;
        }
        (TableList maps, int code, string table) = addressClass switch
        {
            AddressClass.Local => (_local, LocalRejectCode, "local recipient"),
            AddressClass.VirtualAlias => (_virtualAlias, VirtualAliasRejectCode, "virtual alias"),
            AddressClass.VirtualMailbox => (_virtualMailbox, VirtualMailboxRejectCode, "virtual mailbox"),
            _ => (_relay, RelayRejectCode, "relay recipient"),
        };
        // An empty list means "every address": except for virtual alias domains, whose addresses exist only as aliases.
        if ((maps.IsEmpty && addressClass != AddressClass.VirtualAlias)
            || (addressClass == AddressClass.Local && IsAlwaysKnown(address)))
        {
            return Decision.Dunno;
        }
        string[] keys = [.. AddressKeys.For(System.Text.Encoding.UTF8.GetString(address).ToLowerInvariant(),
            addressClass == AddressClass.Local, _delimiters).Select(k => k.Key)];
        if (_virtualAlias.Find(keys) is not null || maps.Find(keys) is not null || IsCanonical(keys[0], subject))
        {
            return Decision.Dunno;
        }
        return RestrictionEvaluator.Reject(code, subject == Subject.Sender ? "5.1.0" : "5.1.1", subject, c,
            ShowTableName ? $"User unknown in {table} table" : "User unknown");
    }

    private bool IsCanonical(string address, Subject subject)
    {
        foreach (AddressMap map in subject == Subject.Sender ? _senderCanonical : _recipientCanonical)
        {
            if (map.Has(address))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// Postfix's answer for an address trivial-rewrite sends to the error transport because relocated_maps lists it
    /// (unless a canonical or virtual alias table names it); null when it is not relocated.
    /// </summary>
    private Decision? Relocated(ReadOnlySpan<byte> address, AddressClass addressClass, Subject subject, scoped in CheckContext c)
    {
        string text = System.Text.Encoding.UTF8.GetString(address).ToLowerInvariant();
        if (_relocated.Find(text) is not { } status)
        {
            return null;
        }
        if (_virtualAlias.Find([text]) is not null || IsCanonical(text, subject))
        {
            return null;
        }
        int space = status.IndexOf(' ');
        string reason = status[(space + 1)..];
        if (status[0] == '4')
        {
            return RestrictionEvaluator.Reject(451, "4.3.0", subject, c, "Temporary lookup failure");
        }
        string dsn = subject == Subject.Sender ? SenderStatus(status[..space]) : status[..space];
        return RestrictionEvaluator.Reject(addressClass == AddressClass.VirtualAlias ? VirtualAliasRejectCode : 550, dsn, subject, c, reason);
    }

    /// <summary>smtpd_dsn_fix(): a recipient's X.1.Y status said of a sender becomes the sender's own (X.1.7, X.1.8 or X.1.0).</summary>
    private static string SenderStatus(string status) => status.Length != 5 || !status.AsSpan(1).StartsWith(".1.") ? status
        : status[4] switch
        {
            '1' or '3' or '4' or '6' or '7' => status[..4] + "7",
            '2' or '8' => status[..4] + "8",
            _ => status[..4] + "0",
        };

    /// <summary>postmaster, MAILER-DAEMON and the double-bounce sender, in any case.</summary>
    private bool IsAlwaysKnown(ReadOnlySpan<byte> address)
    {
        int at = address.LastIndexOf((byte)'@');
        ReadOnlySpan<byte> local = at < 0 ? address : address[..at];
        foreach (byte[] name in _alwaysKnown)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(local, name))
            {
                return true;
            }
        }
        return false;
    }
}
