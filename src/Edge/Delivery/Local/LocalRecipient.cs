using Edge.Unix;

namespace Edge.Delivery.Local;

/// <summary>
/// A local(8) recipient's parts: every decision uses the local part folded to lower case (<see cref="Local"/>), and
/// the user without its extension (<see cref="User"/>); the address keeps its case for logs and headers.
/// </summary>
internal sealed record LocalRecipient(string Address, string Local, string User, string Extension, string Delimiter, string Domain)
{
    public static LocalRecipient Parse(string address, string recipientDelimiter)
    {
        int at = address.LastIndexOf('@');
        string local = (at < 0 ? address : address[..at]).ToLowerInvariant();
        int extension = recipientDelimiter.Length == 0 ? -1 : local.IndexOfAny(recipientDelimiter.ToCharArray());
        return new LocalRecipient(address, local,
            extension < 0 ? local : local[..extension],
            extension < 0 ? "" : local[(extension + 1)..],
            extension < 0 ? "" : local[extension].ToString(),
            at < 0 ? "" : address[(at + 1)..]);
    }

    /// <summary>The names local(8) expands in forward_path, luser_relay and command_execution_directory.</summary>
    public Dictionary<string, string> Attributes(UnixUser? user) => new(StringComparer.Ordinal)
    {
        ["user"] = User,
        ["extension"] = Extension,
        ["recipient_delimiter"] = Delimiter,
        ["local"] = Address.LastIndexOf('@') is var at and >= 0 ? Address[..at] : Address,
        ["domain"] = Domain,
        ["recipient"] = Address,
        ["home"] = user?.Home ?? "",
        ["shell"] = user?.Shell ?? "",
    };
}
