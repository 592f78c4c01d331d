using Edge.Config;

namespace Edge.Resolve;

/// <summary>
/// trivial-rewrite's rewrite_tree() for one context, on an address in internal form: a lone "@" becomes the empty
/// address, a source route (@a,@b:user@c) is stripped, an address without "@" is turned around ("host!user", with
/// swap_bangpath) or opened ("user%host", with allow_percent_hack) or given "@origin", a domain without a dot gets
/// ".domain", and a trailing dot goes. The local context (envelope addresses, and headers of mail from local clients)
/// appends $myorigin (append_at_myorigin) and $mydomain (append_dot_mydomain); the remote context appends
/// remote_header_rewrite_domain in their place, under the same two switches.
/// </summary>
internal sealed class RewriteContext(string? origin, string? domain, bool swapBangpath, bool percentHack)
{
    public static RewriteContext Local(MainConfig config) => new(
        config.GetBool("append_at_myorigin") ? NonEmpty(config.Get("myorigin")) : null,
        config.GetBool("append_dot_mydomain") ? NonEmpty(config.Get("mydomain")) : null,
        config.GetBool("swap_bangpath"), config.GetBool("allow_percent_hack"));

    /// <summary>The remote context; null when remote_header_rewrite_domain is empty (headers of remote mail are left alone).</summary>
    public static RewriteContext? Remote(MainConfig config) => NonEmpty(config.Get("remote_header_rewrite_domain")) is { } domain
        ? new(config.GetBool("append_at_myorigin") ? domain : null, config.GetBool("append_dot_mydomain") ? domain : null,
            config.GetBool("swap_bangpath"), config.GetBool("allow_percent_hack"))
        : null;

    private static string? NonEmpty(string value) => value.Length > 0 ? value : null;

    /// <summary>Whether <see cref="Rewrite"/> could change <paramref name="address"/>: a cheap look at the bytes, so that an ordinary address costs nothing.</summary>
    public bool MayChange(ReadOnlySpan<byte> address)
    {
        if (address.IsEmpty)
        {
            return false;
        }
        int at = address.LastIndexOf((byte)'@');
        return at <= 0 || address[0] == '@' || address[^1] == '.' || (domain is not null && !address[(at + 1)..].Contains((byte)'.'));
    }

    /// <summary>The new form of <paramref name="address"/>; null when this context leaves it as it is.</summary>
    public string? Changed(ReadOnlySpan<byte> address)
    {
        if (!MayChange(address))
        {
            return null;
        }
        string text = System.Text.Encoding.UTF8.GetString(address);
        string rewritten = Rewrite(text);
        return rewritten == text ? null : rewritten;
    }

    /// <summary><paramref name="address"/> rewritten in this context.</summary>
    public string Rewrite(string address)
    {
        if (address.Length == 0)
        {
            return address;
        }
        if (address == "@")
        {
            return "";
        }
        if (address[0] == '@' && address.IndexOf(':') is > 0 and var colon && colon < address.Length - 1)
        {
            address = address[(colon + 1)..];
        }
        int at = address.LastIndexOf('@');
        if (at < 0)
        {
            int bang = swapBangpath ? address.IndexOf('!') : -1;
            int percent = percentHack ? address.LastIndexOf('%') : -1;
            if (bang >= 0)
            {
                address = $"{address[(bang + 1)..]}@{address[..bang]}";
            }
            else if (percent >= 0)
            {
                address = $"{address[..percent]}@{address[(percent + 1)..]}";
            }
            else if (origin is not null)
            {
                address = $"{address}@{origin}";
            }
            at = address.LastIndexOf('@');
        }
        if (domain is not null && at >= 0 && at < address.Length - 1 && address[at + 1] != '[' && !address.AsSpan(at + 1).Contains('.'))
        {
            address = $"{address}.{domain}";
        }
        if (address.Length > 1 && address[^1] == '.' && address[^2] is not ('.' or '@'))
        {
            address = address[..^1];
        }
        return address;
    }
}
