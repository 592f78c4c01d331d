using System.Net;
using Edge.Logging;

namespace Edge.Restrictions;

/// <summary>
/// check_{client,helo,sender,recipient}_{ns,mx,a}_access: the access table is asked about the name servers, mail
/// servers or addresses of a host name or an address's domain, as Postfix's check_server_access(): each server's name
/// and parent domains (not for _a_), then each of its addresses and their leading parts; the first entry found
/// decides. An address literal is its own mail server (no name server). No answer from DNS decides nothing. OK is
/// not allowed, since it would let anyone in who points a record at an allowed server: Postfix's three warnings
/// and a server error.
/// </summary>
internal static class ServerAccess
{
    public static Decision Check(RestrictionSettings s, RestrictionStep step, Subject subject, scoped in CheckContext c,
        int depth, string name)
    {
        Decision d = Find(s, step, subject, c, depth, name);
        if (d.Outcome == Outcome.Permit && d.Saved?.Discard != true)
        {
            string restriction = RestrictionList.NameOf(step.Kind);
            MailLog.Warning($"restriction {restriction} returns OK for {name}");
            MailLog.Warning("this is not allowed for security reasons");
            MailLog.Warning("use DUNNO instead of OK if you want to make an exception");
            return Decision.ServerConfigurationError;
        }
        return d;
    }

    private static Decision Find(RestrictionSettings s, RestrictionStep step, Subject subject, scoped in CheckContext c,
        int depth, string name)
    {
        string domain = name[(name.LastIndexOf('@') + 1)..].TrimEnd('.');
        DnsCheckKind kind = step.Kind switch
        {
            Restriction.CheckClientNsAccess or Restriction.CheckHeloNsAccess or Restriction.CheckSenderNsAccess
                or Restriction.CheckRecipientNsAccess => DnsCheckKind.NameServers,
            Restriction.CheckClientMxAccess or Restriction.CheckHeloMxAccess or Restriction.CheckSenderMxAccess
                or Restriction.CheckRecipientMxAccess => DnsCheckKind.MailServers,
            _ => DnsCheckKind.HostAddresses,
        };
        if (domain.StartsWith('['))
        {
            string? literal = kind == DnsCheckKind.NameServers || !domain.EndsWith(']') ? null : domain[1..^1];
            if (literal?.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase) == true)
            {
                literal = literal[5..];
            }
            return literal is not null && IPAddress.TryParse(literal, out _)
                ? AccessResult.Apply(s, step, subject, c, depth, AccessLookup.HostAddress(step.Table!, literal))
                : Decision.Dunno;
        }
        if (domain.Length == 0)
        {
            return Decision.Dunno;
        }
        var check = new DnsCheck(kind, domain);
        if (c.Dns is null || !c.Dns.TryGet(check, out DnsFact fact))
        {
            return Decision.NeedLookup(check);
        }
        if (!fact.Found)
        {
            MailLog.Warning($"Unable to look up {(kind == DnsCheckKind.NameServers ? "NS" : "MX")} host for {domain}: {fact.Status}");
            return Decision.Dunno;
        }
        foreach (Exchanger server in fact.Exchangers!)
        {
            if (kind != DnsCheckKind.HostAddresses && !IPAddress.TryParse(server.Name, out _)
                && AccessLookup.HostName(step.Table!, server.Name, s.ParentDomainMatchesSubdomains) is { } byName)
            {
                return AccessResult.Apply(s, step, subject, c, depth, byName);
            }
            foreach (IPAddress address in server.Addresses)
            {
                if (AccessLookup.HostAddress(step.Table!, address.ToString()) is { } byAddress)
                {
                    return AccessResult.Apply(s, step, subject, c, depth, byAddress);
                }
            }
        }
        return Decision.Dunno;
    }
}
