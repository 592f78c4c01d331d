using Edge.Config;
using Edge.Logging;
using Edge.Mail;
using Edge.Tables;

namespace Edge.Resolve;

/// <summary>
/// relocated_maps, as trivial-rewrite applies them to every address whatever its class: a listed user's mail goes
/// to the error transport with "5.1.6 User has moved to NEW" (relocated_prefix_enable = yes), or with the status and
/// text the table gives (no). smtpd refuses such a recipient; the queue manager bounces one that got in anyway.
/// </summary>
internal sealed class RelocatedMaps
{
    private readonly AddressMap _map;
    private readonly bool _prefix;

    public RelocatedMaps(MainConfig config, AddressClassifier classifier)
    {
        _map = new AddressMap(config, "relocated_maps", classifier, "relocated");
        _prefix = config.GetBool("relocated_prefix_enable");
    }

    public bool IsEmpty => _map.IsEmpty;

    /// <inheritdoc cref="Tables.TableList.IsRemote"/>
    public bool IsRemote => _map.IsRemote;

    /// <summary>"status text" for mail to a relocated <paramref name="address"/>; "4.3.0 …" when the table cannot answer; null when it is not relocated.</summary>
    public string? Find(string address)
    {
        string? value;
        try
        {
            value = _map.Value(address);
        }
        catch (TableLookupException)
        {
            return "4.3.0 relocated_maps lookup failure";
        }
        if (value is null)
        {
            return null;
        }
        if (_prefix)
        {
            return $"5.1.6 User has moved to {value}";
        }
        int space = value.IndexOf(' ');
        string status = space < 0 ? value : value[..space];
        if (space > 0 && status[0] is '4' or '5' && EnhancedStatus.IsCode(status))
        {
            return value;
        }
        MailLog.Warning($"relocated_maps result must contain RFC 3463 status and text: '{(value.Length > 100 ? value[..100] : value)}'");
        return "5.2.0 Mailbox is unavailable";
    }
}
