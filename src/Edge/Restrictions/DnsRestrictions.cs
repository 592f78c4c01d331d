using System.Text;

namespace Edge.Restrictions;

/// <summary>
/// The restrictions that ask DNS: reject_unknown_sender_domain and reject_unknown_recipient_domain, and the
/// DNS lists (reject_rbl_client, permit_dnswl_client, reject_rhsbl_*). Each first looks for its answer among
/// the session's <see cref="DnsChecks"/>, and asks for it when it is not there.
/// </summary>
internal static class DnsRestrictions
{
    /// <summary>
    /// A domain with no MX and no address record: unknown_address_reject_code, 4.1.8 for senders and 4.1.2
    /// for recipients, as Postfix says; a null MX is refused outright; no answer from DNS defers with 4.4.3.
    /// </summary>
    public static Decision UnknownDomain(RestrictionSettings s, Subject subject, scoped in CheckContext c)
    {
        string address = subject == Subject.Sender ? c.SenderText : c.RecipientText;
        if (DomainOf(address) is not { } domain || domain.StartsWith('['))
        {
            return Decision.Dunno;
        }
        var check = new DnsCheck(DnsCheckKind.MailDomain, domain);
        if (c.Dns is null || !c.Dns.TryGet(check, out DnsFact fact))
        {
            return Decision.NeedLookup(check);
        }
        bool sender = subject == Subject.Sender;
        if (fact.NullMx)
        {
            return RestrictionEvaluator.Reject(sender ? 550 : 556, sender ? "5.7.27" : "5.1.10", subject, c,
                $"Domain {domain} does not accept mail (nullMX)");
        }
        if (fact.Found)
        {
            return Decision.Dunno;
        }
        return fact.Failed
            ? RestrictionEvaluator.Reject(450, "4.4.3", subject, c, "Domain not found")
            : RestrictionEvaluator.Reject(s.UnknownAddressRejectCode, sender ? "4.1.8" : "4.1.2", subject, c, "Domain not found");
    }

    /// <summary>
    /// reject_unknown_helo_hostname: a HELO name with no address and no MX record gets unknown_hostname_reject_code
    /// 4.7.1 (a null MX is fine for an MTA's name, as in Postfix); no answer from DNS is
    /// unknown_helo_hostname_tempfail_action, 450 4.7.1.
    /// </summary>
    public static Decision UnknownHostname(RestrictionSettings s, scoped in CheckContext c)
    {
        var check = new DnsCheck(DnsCheckKind.MailDomain, c.Helo!.TrimEnd('.'));
        if (c.Dns is null || !c.Dns.TryGet(check, out DnsFact fact))
        {
            return Decision.NeedLookup(check);
        }
        if (fact.Found)
        {
            return Decision.Dunno;
        }
        if (!fact.Failed)
        {
            return RestrictionEvaluator.Reject(s.UnknownHostnameRejectCode, "4.7.1", Subject.Helo, c, "Host not found");
        }
        Decision deferral = RestrictionEvaluator.Reject(450, "4.7.1", Subject.Helo, c, "Host not found");
        return s.UnknownHeloTempfailDefers ? deferral : Decision.Dunno with { Deferral = deferral.Reply };
    }

    /// <summary>
    /// A DNS list lookup: listed means reject with default_rbl_reply (or permit, for permit_dnswl_client);
    /// not listed, or no answer, goes on with the list.
    /// </summary>
    public static Decision Listed(RestrictionSettings s, RestrictionStep step, scoped in CheckContext c, string query,
        string what, string whatValue)
    {
        var check = new DnsCheck(DnsCheckKind.ListEntry, query);
        if (c.Dns is null || !c.Dns.TryGet(check, out DnsFact fact))
        {
            return Decision.NeedLookup(check);
        }
        if (!fact.Found || !step.List!.Lists(fact.Addresses))
        {
            return Decision.Dunno;
        }
        if (step.Kind == Restriction.PermitDnswlClient)
        {
            return Decision.Permit;
        }
        string text = ExpandReply(s.RblReply, s.RblRejectCode, what, whatValue, step.List.Domain, fact.Reason, c);
        int space = text.IndexOf(' ');
        return Decision.Reject(s.RblRejectCode, "5.7.1", space < 0 ? "" : text[(space + 1)..]);
    }

    /// <summary>The domain of an address or name: after the last '@', or the whole name; null when empty.</summary>
    public static string? DomainOf(string address)
    {
        string domain = address[(address.LastIndexOf('@') + 1)..].TrimEnd('.');
        return domain.Length == 0 ? null : domain;
    }

    /// <summary>
    /// default_rbl_reply's template: $name or ${name}, ${name?text} (text when name has a value) and
    /// ${name:text} (text when it has none), where text may use $name itself.
    /// </summary>
    private static string ExpandReply(string template, int code, string rblClass, string what, string domain, string? reason,
        scoped in CheckContext c)
    {
        var values = new Dictionary<string, string>
        {
            ["rbl_code"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["rbl_class"] = rblClass,
            ["rbl_what"] = what,
            ["rbl_domain"] = domain,
            ["rbl_reason"] = reason ?? "",
            ["rbl_txt"] = reason ?? "",
            ["client_address"] = c.Client.Address,
            ["client_name"] = c.Client.Name,
            ["helo_name"] = c.Helo ?? "",
            ["sender"] = c.SenderText,
            ["recipient"] = c.RecipientText,
        };
        return Expand(template, values);
    }

    private static string Expand(string template, Dictionary<string, string> values)
    {
        var text = new StringBuilder(template.Length + 64);
        for (int i = 0; i < template.Length; i++)
        {
            if (template[i] != '$' || i + 1 == template.Length)
            {
                text.Append(template[i]);
                continue;
            }
            if (template[i + 1] == '{')
            {
                int close = Close(template, i + 2);
                string inner = template[(i + 2)..close];
                int op = inner.IndexOfAny(['?', ':']);
                string name = op < 0 ? inner : inner[..op];
                string value = values.GetValueOrDefault(name, "");
                text.Append(op < 0 ? value
                    : (inner[op] == '?') == (value.Length > 0) ? Expand(inner[(op + 1)..], values) : "");
                i = close;
                continue;
            }
            int end = i + 1;
            while (end < template.Length && (char.IsAsciiLetterOrDigit(template[end]) || template[end] == '_'))
            {
                end++;
            }
            text.Append(values.GetValueOrDefault(template[(i + 1)..end], ""));
            i = end - 1;
        }
        return text.ToString();
    }

    /// <summary>The index of the '}' that closes a "${" whose contents start at <paramref name="start"/>.</summary>
    private static int Close(string template, int start)
    {
        int depth = 1;
        for (int i = start; i < template.Length; i++)
        {
            depth += template[i] == '{' ? 1 : template[i] == '}' ? -1 : 0;
            if (depth == 0)
            {
                return i;
            }
        }
        return template.Length;
    }
}
