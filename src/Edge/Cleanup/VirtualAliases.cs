using System.Text;
using Edge.Config;
using Edge.Mail;
using Edge.Resolve;
using Edge.Tables;

namespace Edge.Cleanup;

/// <summary>
/// virtual_alias_maps, applied as Postfix's cleanup does before a message is queued: every recipient a table
/// lists is replaced by the addresses it maps to, recursively (an address that maps to itself stays), each
/// keeping the recipient the client gave as its original recipient (ORCPT) for delivery notices. Keys are
/// tried as virtual(5) says (<see cref="AddressKeys"/>); an extension the table did not match is carried over to the result (propagate_unmatched_extensions).
/// </summary>
internal sealed class VirtualAliases
{
    private readonly TableList _maps;
    private readonly AddressClassifier _classifier;
    private readonly string _origin;
    private readonly char[] _delimiters;
    private readonly bool _propagateExtension;
    private readonly int _recursionLimit;
    private readonly int _expansionLimit;

    /// <param name="enabled">False with receive_override_options = no_address_mappings: recipients stay as they are.</param>
    public VirtualAliases(MainConfig config, AddressClassifier classifier, bool enabled = true)
    {
        _maps = enabled ? TableList.Open(config, "virtual_alias_maps") : TableList.Empty;
        _classifier = classifier;
        _origin = config.Get("myorigin");
        _delimiters = config.Get("recipient_delimiter").ToCharArray();
        _propagateExtension = config.GetList("propagate_unmatched_extensions").Contains("virtual", StringComparer.OrdinalIgnoreCase);
        _recursionLimit = config.GetInt("virtual_alias_recursion_limit");
        _expansionLimit = config.GetInt("virtual_alias_expansion_limit");
    }

    /// <summary>
    /// Rewrites the envelope's recipients; null when done (nothing to do costs nothing), otherwise why the
    /// message cannot be accepted now (a table that cannot be read, an expansion past its limits).
    /// </summary>
    public string? Expand(Envelope envelope)
    {
        if (_maps.IsEmpty)
        {
            return null;
        }
        var expanded = new List<(string Address, string Orcpt, DsnNotify Notify)>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        bool changed = false;
        foreach (Envelope.Recipient recipient in envelope.Recipients)
        {
            string original = Encoding.UTF8.GetString(envelope[recipient.Address]);
            string orcpt = Encoding.UTF8.GetString(envelope[recipient.Orcpt]);
            var addresses = new List<string>();
            if (Resolve(original, 0, addresses) is { } error)
            {
                return error;
            }
            if (addresses.Count > _expansionLimit)
            {
                return $"unreasonable virtual_alias_maps map expansion size for {original}";
            }
            changed |= addresses.Count != 1 || addresses[0] != original;
            foreach (string address in addresses)
            {
                // A recipient reached twice (two aliases naming the same address) gets one copy.
                if (seen.Add(address))
                {
                    expanded.Add((address, orcpt.Length > 0 || address == original ? orcpt : $"rfc822;{original}", recipient.Notify));
                }
            }
        }
        return !changed || envelope.ReplaceRecipients(expanded) ? null
            : "too many recipients after virtual alias expansion for one queue file";
    }

    /// <summary>Appends what <paramref name="address"/> resolves to; an error when the tables say nothing certain.</summary>
    private string? Resolve(string address, int depth, List<string> into)
    {
        if (depth > _recursionLimit)
        {
            return $"unreasonable virtual_alias_maps map nesting for {address}";
        }
        if (Lookup(address, out string? extension) is not { } value)
        {
            if (_maps.Failure is not null)
            {
                return $"virtual_alias_maps lookup failure for {address}: {_maps.Failure}";
            }
            into.Add(address);
            return null;
        }
        foreach (string item in value.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            string target = Qualify(WithExtension(item, extension));
            if (target.Equals(address, StringComparison.OrdinalIgnoreCase))
            {
                // An alias that lists itself keeps its own mailbox, as Postfix's self-reference rule says.
                into.Add(target);
                continue;
            }
            if (Resolve(target, depth + 1, into) is { } error)
            {
                return error;
            }
        }
        return null;
    }

    /// <summary>The table's value for the first key it has; the extension when only the extension-less key matched.</summary>
    private string? Lookup(string address, out string? extension)
    {
        bool local = !address.Contains('@') || _classifier.Classify(Encoding.UTF8.GetBytes(address)) == AddressClass.Local;
        foreach (AddressKey key in AddressKeys.For(address, local, _delimiters))
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

    /// <summary>user+ext@x for an alias that matched without its extension, when extensions propagate.</summary>
    private string WithExtension(string target, string? extension)
    {
        if (extension is null || !_propagateExtension)
        {
            return target;
        }
        int at = target.LastIndexOf('@');
        return at < 0 ? target + extension : target[..at] + extension + target[at..];
    }

    private string Qualify(string address) => address.Contains('@') ? address : $"{address}@{_origin}";
}
