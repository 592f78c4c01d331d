using System.Text;
using Edge.Config;
using Edge.Mail;
using Edge.Resolve;
using Edge.Tables;

namespace Edge.Cleanup;

/// <summary>
/// virtual_alias_maps, applied as Postfix's cleanup does before a message is queued: every recipient a table
/// lists is replaced by the addresses it maps to, recursively (an address that maps to itself stays), each
/// keeping the recipient the client gave as its original recipient (ORCPT) for delivery notices. The table is read
/// as virtual(5) says (<see cref="AddressMap"/>).
/// </summary>
internal sealed class VirtualAliases
{
    private readonly AddressMap _maps;
    private readonly int _recursionLimit;
    private readonly int _expansionLimit;

    /// <param name="enabled">False with receive_override_options = no_address_mappings: recipients stay as they are.</param>
    public VirtualAliases(MainConfig config, AddressClassifier classifier, bool enabled = true)
    {
        _maps = new AddressMap(config, "virtual_alias_maps", classifier, "virtual", enabled);
        _recursionLimit = config.GetInt("virtual_alias_recursion_limit");
        _expansionLimit = config.GetInt("virtual_alias_expansion_limit");
    }

    /// <inheritdoc cref="AddressMap.IsRemote"/>
    public bool IsRemote => _maps.IsRemote;

    /// <summary>
    /// Fetches into <paramref name="answers"/>, without holding a thread, what expanding <paramref name="addresses"/>
    /// asks of the tables a server answers, so that <see cref="Expand(Envelope)"/> under them does not wait.
    /// </summary>
    public async ValueTask PrefetchAsync(IEnumerable<string> addresses, TableAnswers answers, CancellationToken cancellationToken)
    {
        foreach (string address in addresses)
        {
            await answers.AskAheadAsync(() => Expand(address, out _), cancellationToken);
        }
    }

    /// <summary><see cref="Expand(Envelope)"/> with the answers <paramref name="answers"/> holds (a lookup they lack waits).</summary>
    public string? Expand(Envelope envelope, TableAnswers? answers)
    {
        using TableAnswers.Scope scope = TableAnswers.Use(answers);
        return Expand(envelope);
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

    /// <summary>
    /// One address expanded, for an address verification probe: the addresses it reaches (itself when no table lists
    /// it); null with <paramref name="error"/> when the tables say nothing certain.
    /// </summary>
    public List<string>? Expand(string address, out string? error)
    {
        var addresses = new List<string>();
        error = _maps.IsEmpty ? null : Resolve(address, 0, addresses);
        if (_maps.IsEmpty)
        {
            addresses.Add(address);
        }
        else if (error is null && addresses.Count > _expansionLimit)
        {
            error = $"unreasonable virtual_alias_maps map expansion size for {address}";
        }
        return error is null ? [.. addresses.Distinct(StringComparer.OrdinalIgnoreCase)] : null;
    }

    /// <summary>Appends what <paramref name="address"/> resolves to; an error when the tables say nothing certain.</summary>
    private string? Resolve(string address, int depth, List<string> into)
    {
        if (depth > _recursionLimit)
        {
            return $"unreasonable virtual_alias_maps map nesting for {address}";
        }
        string[]? targets;
        try
        {
            targets = _maps.Map(address);
        }
        catch (TableLookupException e)
        {
            return $"virtual_alias_maps lookup failure for {address}: {e.Reason}";
        }
        if (targets is null)
        {
            into.Add(address);
            return null;
        }
        if (targets.Length == 0)
        {
            return $"virtual_alias_maps lookup of {address} returns no address";
        }
        foreach (string target in targets)
        {
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
}
