namespace Edge.Tables;

/// <summary>One key of an address lookup, and the extension it left out ("+ext"), if any.</summary>
internal readonly record struct AddressKey(string Key, string? DroppedExtension);

/// <summary>
/// The keys Postfix's mail_addr_find tries for an address, in order (virtual(5), the recipient checks):
/// user+ext@domain, user@domain, then for a local domain user+ext and user, then @domain. The extension starts
/// at the first recipient_delimiter character after the first character of the local part.
/// </summary>
internal static class AddressKeys
{
    public static AddressKey[] For(string address, bool localDomain, char[] delimiters)
    {
        int at = address.LastIndexOf('@');
        string user = at < 0 ? address : address[..at];
        string domain = at < 0 ? "" : address[at..];
        int split = delimiters.Length == 0 ? -1 : user.IndexOfAny(delimiters);
        string? extension = split > 0 ? user[split..] : null;
        string bare = extension is null ? user : user[..split];
        var keys = new List<AddressKey>(5) { new(user + domain, null) };
        if (extension is not null)
        {
            keys.Add(new(bare + domain, extension));
        }
        if (domain.Length > 0)
        {
            if (localDomain)
            {
                keys.Add(new(user, null));
                if (extension is not null)
                {
                    keys.Add(new(bare, extension));
                }
            }
            keys.Add(new(domain, null));
        }
        return [.. keys];
    }
}
