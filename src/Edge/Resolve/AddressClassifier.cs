using System.Buffers;
using System.Net;
using System.Text;

namespace Edge.Resolve;

/// <summary>
/// What trivial-rewrite's resolver says of a recipient for the restrictions: the class of the domain the address
/// really goes to, and whether its local part still holds routing operators (@, ! or %), which send it on from
/// there to a destination nobody checked.
/// </summary>
internal readonly record struct Resolution(AddressClass Class, bool Routed);

/// <summary>
/// Decides a recipient's address class from its domain, as trivial-rewrite does: a domain in mydestination is local,
/// and so is an address literal of this host (inet_interfaces, proxy_interfaces), as resolve_local() says; with
/// resolve_numeric_domain, a bare address (user@192.0.2.1) is taken as that literal.
/// </summary>
/// <param name="origin">$myorigin when append_at_myorigin = yes: where an address without a domain goes; null, local.</param>
/// <param name="ownAddresses">This host's addresses; null when address literals are never local.</param>
/// <param name="myorigin">$myorigin, whose addresses table lookups also try by their local part alone.</param>
internal sealed class AddressClassifier(DomainSet mydestination, DomainSet virtualAlias, DomainSet virtualMailbox, DomainSet relay,
    bool percentHack = true, bool swapBangpath = true, bool resolveDequoted = true, string? origin = null,
    IReadOnlySet<IPAddress>? ownAddresses = null, bool resolveNumeric = false, string? myorigin = null)
{
    private static readonly SearchValues<byte> s_routing = SearchValues.Create("@%!\""u8);

    public AddressClass Classify(ReadOnlySpan<byte> address)
    {
        int at = address.LastIndexOf((byte)'@');
        return at < 0 ? Unqualified() : ClassifyDomain(address[(at + 1)..]);
    }

    /// <summary>An address without a domain: cleanup qualifies it with $myorigin (append_at_myorigin), so it goes where that domain goes.</summary>
    private AddressClass Unqualified() => origin is null ? AddressClass.Local : ClassifyDomain(Encoding.UTF8.GetBytes(origin));

    /// <summary>A domain list is (partly) a table a server answers.</summary>
    public bool IsRemote => mydestination.IsRemote || virtualAlias.IsRemote || virtualMailbox.IsRemote || relay.IsRemote;

    /// <summary>
    /// Whether the "user" key of a table lookup applies to <paramref name="address"/>, as mail_addr_find() decides: it
    /// has no domain, or its domain is $myorigin or local.
    /// </summary>
    public bool IsLocalForLookup(string address)
    {
        int at = address.LastIndexOf('@');
        if (at < 0)
        {
            return true;
        }
        string domain = address[(at + 1)..].TrimEnd('.');
        return domain.Equals(myorigin, StringComparison.OrdinalIgnoreCase) || ClassifyDomain(Encoding.UTF8.GetBytes(domain)) == AddressClass.Local;
    }

    private AddressClass ClassifyDomain(ReadOnlySpan<byte> domain)
    {
        if (mydestination.Contains(domain) || IsOwnAddress(domain)) return AddressClass.Local;
        if (virtualAlias.Contains(domain)) return AddressClass.VirtualAlias;
        if (virtualMailbox.Contains(domain)) return AddressClass.VirtualMailbox;
        if (relay.Contains(domain)) return AddressClass.Relay;
        return AddressClass.Default;
    }

    /// <summary>[192.0.2.1], [IPv6:2001:db8::1] or, with resolve_numeric_domain, 192.0.2.1: an address of this host.</summary>
    private bool IsOwnAddress(ReadOnlySpan<byte> domain)
    {
        if (ownAddresses is null || domain.IsEmpty || domain.Length > 64 || (domain[0] != '[' && !(resolveNumeric && IsDigitOrColon(domain[0]))))
        {
            return false;
        }
        if (domain[0] == '[')
        {
            if (domain[^1] != ']')
            {
                return false;
            }
            domain = domain[1..^1];
            if (domain.Length > 5 && Ascii.EqualsIgnoreCase(domain[..5], "IPv6:"u8))
            {
                domain = domain[5..];
            }
            else if (domain.Contains((byte)':'))
            {
                return false;
            }
        }
        Span<char> chars = stackalloc char[domain.Length];
        // IPAddress also reads "127.1" and "2130706433"; an address literal is a full dotted quad, as valid_hostaddr() wants.
        return Ascii.ToUtf16(domain, chars, out int written) == OperationStatus.Done
            && (chars[..written].Contains(':') || chars[..written].Count('.') == 3)
            && IPAddress.TryParse(chars[..written], out IPAddress? address) && ownAddresses.Contains(address);
    }

    private static bool IsDigitOrColon(byte b) => char.IsAsciiDigit((char)b) || b == ':';

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

    /// <summary>
    /// The address mail to <paramref name="address"/> goes to, as the queue manager takes it from resolve_addr(): for
    /// "user%host@local.domain" (or "host!user@…") the inner address "user@host", with what local domains there are
    /// stripped; any other address as it is. Without a domain left, the last local domain stripped is kept.
    /// </summary>
    public string Delivered(string address)
    {
        int at = address.LastIndexOf('@');
        if (address.StartsWith('"') || address.AsSpan(0, Math.Max(at, 0)).IndexOfAny('@', '%', '!') < 0)
        {
            return address;
        }
        ResolveRouting(address, out string delivered);
        return delivered;
    }

    private Resolution ResolveRouting(string address) => ResolveRouting(address, out _);

    private Resolution ResolveRouting(string address, out string delivered)
    {
        (string local, bool quoted, string? domain) = Split(address);
        string? stripped = null;
        delivered = address;
        // Each pass strips a domain or takes one operator apart, so the address shrinks; the bound only guards that.
        for (int pass = 0; pass <= address.Length; pass++)
        {
            if (domain is not null)
            {
                byte[] utf8 = Encoding.UTF8.GetBytes(domain);
                if (!mydestination.Contains(utf8) && !IsOwnAddress(utf8))
                {
                    delivered = quoted ? address : $"{local}@{domain}";
                    return new Resolution(ClassifyDomain(utf8), IsRouted(local));
                }
                (stripped, domain) = (domain, null);
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
        delivered = quoted || stripped is null ? address : $"{local}@{stripped}";
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
