using Edge.Config;
using Edge.Tables;

namespace Edge.Resolve;

/// <summary>
/// A table list that maps addresses to addresses, read as Postfix's mail_addr_map() reads canonical_maps and
/// virtual_alias_maps: the keys of <see cref="AddressKeys"/> (user@domain, without the extension, the bare user
/// for $myorigin and local domains, @domain), a result "@otherdomain" keeping the user, a result without a domain
/// qualified with $myorigin, and an extension that only an extension-less key matched carried over to every result
/// when propagate_unmatched_extensions names the map's class.
/// </summary>
internal sealed class AddressMap
{
    private readonly TableList _maps;
    private readonly AddressClassifier _classifier;
    private readonly char[] _delimiters;
    private readonly bool _propagate;
    private readonly string _origin;

    /// <param name="extensionClass">The word of propagate_unmatched_extensions for this map: canonical or virtual.</param>
    /// <param name="enabled">False leaves the map empty (receive_override_options = no_address_mappings).</param>
    public AddressMap(MainConfig config, string parameter, AddressClassifier classifier, string extensionClass, bool enabled = true)
    {
        Name = parameter;
        _maps = enabled ? TableList.Open(config, parameter) : TableList.Empty;
        _classifier = classifier;
        _delimiters = config.Get("recipient_delimiter").ToCharArray();
        _propagate = config.GetList("propagate_unmatched_extensions").Contains(extensionClass, StringComparer.OrdinalIgnoreCase);
        _origin = config.Get("myorigin");
    }

    /// <summary>The parameter the map comes from, for log lines.</summary>
    public string Name { get; }

    public bool IsEmpty => _maps.IsEmpty;

    /// <summary>
    /// A lookup may wait for a server: one of the tables is answered by one, or (for a map that has tables) the domain
    /// lists that decide whether the "user" key applies are.
    /// </summary>
    public bool IsRemote => _maps.IsRemote || (!_maps.IsEmpty && _classifier.IsRemote);

    /// <summary>Why a lookup could not be answered (a table that did not open); null when every table is there.</summary>
    public string? Failure => _maps.Failure;

    /// <summary>Whether the map has an entry for <paramref name="address"/> (smtpd counts such an address as known).</summary>
    public bool Has(string address) => Value(address) is not null;

    /// <summary>The table's value for <paramref name="address"/> as it stands (relocated_maps hold text, not addresses).</summary>
    public string? Value(string address) => _maps.IsEmpty ? null : Find(address, out _);

    /// <summary>
    /// The addresses <paramref name="address"/> maps to; null when the map has no entry for it, empty when the entry
    /// holds no address (which the caller treats as a lookup failure, as Postfix does).
    /// </summary>
    public string[]? Map(string address)
    {
        if (_maps.IsEmpty || Find(address, out string? extension) is not { } value)
        {
            return null;
        }
        if (value.StartsWith('@'))
        {
            int at = address.LastIndexOf('@');
            string user = at < 0 ? address : address[..at];
            value = (extension is null ? user : user[..^extension.Length]) + value;
        }
        string[] items = value.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (items.Length == 0)
        {
            // Postfix's mail_addr_map(): such a result is a lookup failure, not "no entry" and not "nobody".
            Logging.MailLog.Warning($"{Name} lookup of {address} returns non-address result \"{value}\"");
        }
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = WithExtension(items[i].Contains('@') ? items[i] : $"{items[i]}@{_origin}", extension);
        }
        return items;
    }

    /// <summary>The value for the first key any table has; the extension when only the extension-less key matched.</summary>
    private string? Find(string address, out string? extension)
    {
        foreach (AddressKey key in AddressKeys.For(address, _classifier.IsLocalForLookup(address), _delimiters))
        {
            if (_maps.Find([key.Key]) is { } value)
            {
                extension = key.DroppedExtension;
                return value;
            }
        }
        extension = null;
        return null;
    }

    /// <summary>user+ext@x for a result of a key without the extension, when extensions propagate.</summary>
    private string WithExtension(string target, string? extension)
    {
        if (extension is null || !_propagate)
        {
            return target;
        }
        int at = target.LastIndexOf('@');
        return at < 0 ? target + extension : target[..at] + extension + target[at..];
    }
}
