using Edge.Dns;
using Edge.Resolve;

namespace Edge.Restrictions;

/// <summary>
/// permit_mx_backup (deprecated in Postfix 3.9, where relay_domains takes its place): a recipient domain that lists
/// this host as a backup MX, but not as a primary, may be relayed to; with permit_mx_backup_networks, only when
/// every address of every primary MX is in those networks. Postfix's order and replies: an authorized destination
/// is permitted, an address literal or a domain without MX records is not; an MX list or host that DNS did not
/// answer for defers what a later restriction rejects (450 4.4.4).
/// </summary>
internal static class MxBackup
{
    private static int s_warned;

    public static Decision Check(RestrictionSettings s, scoped in CheckContext c)
    {
        if (Interlocked.Exchange(ref s_warned, 1) == 0)
        {
            Logging.MailLog.Warning("support for restriction \"permit_mx_backup\" will be removed from Postfix; instead, specify \"relay_domains\"");
        }
        if (c.RecipientClass != AddressClass.Default)
        {
            return Decision.Permit;
        }
        if (DnsRestrictions.DomainOf(c.RecipientText) is not { } domain || domain.StartsWith('['))
        {
            return Decision.Dunno;
        }
        var check = new DnsCheck(DnsCheckKind.Exchangers, domain);
        if (c.Dns is null || !c.Dns.TryGet(check, out DnsFact fact))
        {
            return Decision.NeedLookup(check);
        }
        if (!fact.Found)
        {
            return fact.Failed ? DeferIfReject(c, $"Unable to look up mail exchanger information: {TryAgain}") : Decision.Dunno;
        }
        IReadOnlyList<Exchanger> exchangers = fact.Exchangers!;
        int best = exchangers[0].Preference;
        Exchanger[] primaries = [.. exchangers.Where(e => e.Preference == best)];
        Exchanger[] backups = [.. exchangers.Where(e => e.Preference != best)];
        Decision unanswered = Decision.Dunno;
        if (IsMe(s, primaries, c, ref unanswered) || !IsMe(s, backups, c, ref unanswered))
        {
            return unanswered;
        }
        if (s.MxBackupNetworks.IsEmpty)
        {
            return Decision.Permit;
        }
        foreach (Exchanger primary in primaries)
        {
            if (primary.Status != DnsStatus.Ok)
            {
                return DeferIfReject(c, $"Unable to look up host {primary.Name} as mail exchanger: {TryAgain}");
            }
            if (!primary.Addresses.All(s.MxBackupNetworks.Contains))
            {
                return Decision.Dunno;
            }
        }
        return Decision.Permit;
    }

    /// <summary>
    /// Postfix's i_am_mx(): one of the hosts is myhostname by name, or has an address of this host (inet_interfaces,
    /// proxy_interfaces). A host whose addresses DNS did not answer for leaves a DEFER_IF_REJECT in
    /// <paramref name="unanswered"/>.
    /// </summary>
    private static bool IsMe(RestrictionSettings s, Exchanger[] hosts, scoped in CheckContext c, ref Decision unanswered)
    {
        foreach (Exchanger host in hosts)
        {
            if (host.Name.Equals(s.MyHostname, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        foreach (Exchanger host in hosts)
        {
            if (host.Status is not (DnsStatus.Ok or DnsStatus.NoData or DnsStatus.NxDomain))
            {
                unanswered = unanswered.Then(DeferIfReject(c, $"Unable to look up mail exchanger host {host.Name}: {TryAgain}"));
            }
            if (host.Addresses.Any(s.MyAddresses.Contains))
            {
                return true;
            }
        }
        return false;
    }

    private static Decision DeferIfReject(scoped in CheckContext c, string text) =>
        Decision.Dunno with { DeferIfReject = RestrictionEvaluator.Reject(450, "4.4.4", Subject.Recipient, c, text).Reply };

    /// <summary>What Postfix says (its resolver's h_errno text) of a lookup that got no answer.</summary>
    private const string TryAgain = "Host not found, try again";
}
