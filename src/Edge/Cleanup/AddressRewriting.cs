using System.Text;
using Edge.Config;
using Edge.Logging;
using Edge.Mail;
using Edge.Resolve;
using Edge.Tables;

namespace Edge.Cleanup;

/// <summary>Where canonical mapping and masquerading apply: the words of canonical_classes and masquerade_classes.</summary>
[Flags]
internal enum AddressRole
{
    None = 0,
    EnvelopeSender = 1,
    EnvelopeRecipient = 2,
    HeaderSender = 4,
    HeaderRecipient = 8,
}

/// <summary>
/// canonical(5) mapping and masquerading, in Postfix's cleanup order: sender_canonical_maps (or
/// recipient_canonical_maps) first, then canonical_maps, then masquerade_domains, each only for the roles its
/// *_classes parameter names. A canonical table is followed up to ten times until an address maps to itself;
/// an address the tables cannot answer for keeps the message out ("try again later").
/// </summary>
internal sealed class AddressRewriting
{
    private const int MaxRecursion = 10;

    private readonly (AddressMap Map, AddressRole Roles)[] _canonical;
    private readonly Masquerade? _masquerade;
    private readonly AddressRole _masqueradeRoles;

    private AddressRewriting((AddressMap, AddressRole)[] canonical, Masquerade? masquerade, AddressRole masqueradeRoles)
    {
        _canonical = canonical;
        _masquerade = masquerade;
        _masqueradeRoles = masquerade is null ? AddressRole.None : masqueradeRoles;
        Roles = _masqueradeRoles;
        foreach ((_, AddressRole roles) in canonical)
        {
            Roles |= roles;
        }
        IsRemote = canonical.Any(c => c.Item1.IsRemote) || masquerade?.IsRemote == true;
    }

    /// <summary>Nothing to rewrite: no canonical map and no masquerading.</summary>
    public static AddressRewriting None { get; } = new([], null, AddressRole.None);

    /// <summary>The roles some mapping applies to; None when there is nothing to do.</summary>
    public AddressRole Roles { get; }

    /// <summary>A canonical map or masquerade_exceptions has a table a server answers.</summary>
    public bool IsRemote { get; }

    /// <param name="enabled">False with receive_override_options = no_address_mappings.</param>
    public static AddressRewriting From(MainConfig config, AddressClassifier classifier, bool enabled = true)
    {
        if (!enabled)
        {
            return None;
        }
        var canonical = new List<(AddressMap, AddressRole)>();
        foreach ((string maps, string classes, AddressRole allowed) in (ReadOnlySpan<(string, string, AddressRole)>)[
            ("sender_canonical_maps", "sender_canonical_classes", AddressRole.EnvelopeSender | AddressRole.HeaderSender),
            ("recipient_canonical_maps", "recipient_canonical_classes", AddressRole.EnvelopeRecipient | AddressRole.HeaderRecipient),
            ("canonical_maps", "canonical_classes", AddressRole.EnvelopeSender | AddressRole.EnvelopeRecipient | AddressRole.HeaderSender | AddressRole.HeaderRecipient)])
        {
            var map = new AddressMap(config, maps, classifier, "canonical");
            if (!map.IsEmpty)
            {
                canonical.Add((map, RolesOf(config, classes) & allowed));
            }
        }
        Masquerade? masquerade = Masquerade.From(config);
        return new AddressRewriting([.. canonical], masquerade, masquerade is null ? AddressRole.None : RolesOf(config, "masquerade_classes"));
    }

    private static AddressRole RolesOf(MainConfig config, string parameter)
    {
        AddressRole roles = AddressRole.None;
        foreach (string word in config.GetList(parameter))
        {
            roles |= word.ToLowerInvariant() switch
            {
                "envelope_sender" => AddressRole.EnvelopeSender,
                "envelope_recipient" => AddressRole.EnvelopeRecipient,
                "header_sender" => AddressRole.HeaderSender,
                "header_recipient" => AddressRole.HeaderRecipient,
                _ => throw config.Error(parameter, $"unknown class \"{word}\" (envelope_sender, envelope_recipient, header_sender or header_recipient)"),
            };
        }
        return roles;
    }

    /// <summary>
    /// The envelope's sender and recipients rewritten (a recipient that changes keeps the one the client gave as its
    /// original recipient); false when a table could not answer, logged as Postfix does.
    /// </summary>
    public bool RewriteEnvelope(Envelope envelope)
    {
        if ((Roles & (AddressRole.EnvelopeSender | AddressRole.EnvelopeRecipient)) == 0)
        {
            return true;
        }
        if (!envelope[envelope.Sender].IsEmpty && (Roles & AddressRole.EnvelopeSender) != 0)
        {
            string sender = Encoding.UTF8.GetString(envelope[envelope.Sender]);
            if (Rewrite(sender, AddressRole.EnvelopeSender, envelope.Id) is not { } rewritten)
            {
                return false;
            }
            if (rewritten != sender)
            {
                envelope.ReplaceSender(Encoding.UTF8.GetBytes(rewritten));
            }
        }
        if ((Roles & AddressRole.EnvelopeRecipient) == 0)
        {
            return true;
        }
        var recipients = new List<(string Address, string Orcpt, DsnNotify Notify)>(envelope.RecipientCount);
        bool changed = false;
        foreach (Envelope.Recipient recipient in envelope.Recipients)
        {
            string address = Encoding.UTF8.GetString(envelope[recipient.Address]);
            string orcpt = Encoding.UTF8.GetString(envelope[recipient.Orcpt]);
            if (Rewrite(address, AddressRole.EnvelopeRecipient, envelope.Id) is not { } rewritten)
            {
                return false;
            }
            changed |= rewritten != address;
            recipients.Add((rewritten, orcpt.Length > 0 || rewritten == address ? orcpt : $"rfc822;{address}", recipient.Notify));
        }
        return !changed || envelope.ReplaceRecipients(recipients);
    }

    /// <summary>One address in <paramref name="role"/> rewritten; null when a table could not answer.</summary>
    /// <param name="log">False when only asking what the tables will be asked: what goes wrong is logged when it is done.</param>
    public string? Rewrite(string address, AddressRole role, QueueId id, bool log = true)
    {
        foreach ((AddressMap map, AddressRole roles) in _canonical)
        {
            if ((roles & role) == 0)
            {
                continue;
            }
            if (MapOne(map, address, id, log) is not { } mapped)
            {
                return null;
            }
            address = mapped;
        }
        if (_masquerade is null || (_masqueradeRoles & role) == 0)
        {
            return address;
        }
        try
        {
            return _masquerade.Apply(address);
        }
        catch (TableLookupException)
        {
            if (log)
            {
                MailLog.Warning($"{id}: masquerade_exceptions map lookup problem for {address} -- message not accepted, try again later", "cleanup");
            }
            return null;
        }
    }

    /// <summary>cleanup_map11_external(): the table followed until the address maps to itself, at most ten times.</summary>
    private static string? MapOne(AddressMap map, string address, QueueId id, bool log)
    {
        Action<string> warn = log ? text => MailLog.Warning(text, "cleanup") : _ => { };
        for (int count = 0; count < MaxRecursion; count++)
        {
            string[]? targets;
            bool failed = false;
            try
            {
                targets = map.Map(address);
            }
            catch (TableLookupException)
            {
                (targets, failed) = (null, true);
            }
            if (targets is null || targets.Length == 0)
            {
                if (failed || targets is not null)
                {
                    warn($"{id}: {map.Name} map lookup problem for {address} -- message not accepted, try again later");
                    return null;
                }
                return address;
            }
            if (targets.Length > 1)
            {
                warn($"{id}: multi-valued {map.Name} entry for {address}");
            }
            bool self = targets[0].Equals(address, StringComparison.OrdinalIgnoreCase);
            address = targets[0];
            if (self)
            {
                return address;
            }
        }
        warn($"{id}: unreasonable {map.Name} map nesting for {address} -- message not accepted, try again later");
        return address;
    }
}
