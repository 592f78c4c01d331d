using System.Buffers;
using System.Text;

namespace Edge.Resolve;

/// <summary>
/// What trivial-rewrite's resolver says of a recipient for the restrictions: the class of the domain the address
/// really goes to, and whether its local part still holds routing operators (@, ! or %), which send it on from
/// there to a destination nobody checked.
/// </summary>
internal readonly record struct Resolution(AddressClass Class, bool Routed);

/// <summary>Decides a recipient's address class from its domain, as trivial-rewrite does.</summary>
/// <param name="origin">$myorigin when append_at_myorigin = yes: where an address without a domain goes; null, local.</param>
internal sealed class AddressClassifier(DomainSet mydestination, DomainSet virtualAlias, DomainSet virtualMailbox, DomainSet relay,
    bool percentHack = true, bool swapBangpath = true, bool resolveDequoted = true, string? origin = null)
{
    private static readonly SearchValues<byte> s_routing = SearchValues.Create("@%!\""u8);

    public AddressClass Classify(ReadOnlySpan<byte> address)
    {
        int at = address.LastIndexOf((byte)'@');
        return at < 0 ? Unqualified() : ClassifyDomain(address[(at + 1)..]);
    }

    /// <summary>An address without a domain: cleanup qualifies it with $myorigin (append_at_myorigin), so it goes where that domain goes.</summary>
    private AddressClass Unqualified() => origin is null ? AddressClass.Local : ClassifyDomain(Encoding.UTF8.GetBytes(origin));

    private AddressClass ClassifyDomain(ReadOnlySpan<byte> domain)
    {
        if (mydestination.Contains(domain)) return AddressClass.Local;
        if (virtualAlias.Contains(domain)) return AddressClass.VirtualAlias;
        if (virtualMailbox.Contains(domain)) return AddressClass.VirtualMailbox;
        if (relay.Contains(domain)) return AddressClass.Relay;
        return AddressClass.Default;
    }

    /// <summary>
    /// Resolves a recipient as Postfix's resolve_addr() does for smtpd's relay checks: a local domain is stripped and
    /// what remains is resolved again, with "user%domain" (allow_percent_hack), "domain!user" (swap_bangpath) and a
    /// quoted local part holding an address (resolve_dequoted_address) taken apart; the class is that of the domain
    /// where this stops. The address is routed when its local part still holds @, ! or %, whatever the local
    /// settings say, because the next hop may honour them. An ordinary address is decided on its bytes alone.
    /// </summary>
    public Resolution Resolve(ReadOnlySpan<byte> address)
    {
        int at = address.LastIndexOf((byte)'@');
        ReadOnlySpan<byte> local = at < 0 ? address : address[..at];
        if (local.IndexOfAny(s_routing) < 0)
        {
            return new Resolution(at < 0 ? Unqualified() : ClassifyDomain(address[(at + 1)..]), false);
        }
        return ResolveRouting(Encoding.UTF8.GetString(address));
    }

    private Resolution ResolveRouting(string address)
    {
        (string local, bool quoted, string? domain) = Split(address);
        // Each pass strips a domain or takes one operator apart, so the address shrinks; the bound only guards that.
        for (int pass = 0; pass <= address.Length; pass++)
        {
            if (domain is not null)
            {
                if (!mydestination.Contains(Encoding.UTF8.GetBytes(domain)))
                {
                    return new Resolution(ClassifyDomain(Encoding.UTF8.GetBytes(domain)), IsRouted(local));
                }
                domain = null;
            }
            if (quoted)
            {
                // A quoted local part that holds an operator is opened, its rightmost "%" becoming "@".
                int oper = local.LastIndexOf('@');
                if (oper < 0 && percentHack)
                {
                    oper = local.LastIndexOf('%');
                }
                if (oper < 0 && swapBangpath)
                {
                    oper = local.LastIndexOf('!');
                }
                if (oper < 0 || !resolveDequoted)
                {
                    break;
                }
                if (local[oper] == '%')
                {
                    local = string.Concat(local.AsSpan(0, oper), "@", local.AsSpan(oper + 1));
                }
                quoted = false;
                continue;
            }
            int split = local.LastIndexOf('@');
            if (split >= 0)
            {
                (local, domain) = (local[..split], local[(split + 1)..]);
                continue;
            }
            int bang = swapBangpath ? local.IndexOf('!') : -1;
            if (bang >= 0)
            {
                (local, domain) = (local[(bang + 1)..], local[..bang]);
                continue;
            }
            int percent = percentHack ? local.LastIndexOf('%') : -1;
            if (percent >= 0)
            {
                (local, domain) = (local[..percent], local[(percent + 1)..]);
                continue;
            }
            break;
        }
        return new Resolution(AddressClass.Local, IsRouted(local));
    }

    /// <summary>The local part (without its quotes, if it is one quoted string) and the domain, if any.</summary>
    private static (string Local, bool Quoted, string? Domain) Split(string address)
    {
        if (address.Length > 0 && address[0] == '"')
        {
            var unquoted = new StringBuilder(address.Length);
            int i = 1;
            for (; i < address.Length && address[i] != '"'; i++)
            {
                unquoted.Append(address[i] == '\\' && i + 1 < address.Length ? address[++i] : address[i]);
            }
            int after = i + 1;
            if (after >= address.Length || address[after] != '@')
            {
                return (unquoted.ToString(), true, null);
            }
            return (unquoted.ToString(), true, address[(after + 1)..]);
        }
        int at = address.LastIndexOf('@');
        return at < 0 ? (address, false, null) : (address[..at], false, address[(at + 1)..]);
    }

    private static bool IsRouted(string local) => local.AsSpan().IndexOfAny('@', '!', '%') >= 0;
}
