using System.Diagnostics.CodeAnalysis;

namespace Edge.Tables.Ldap;

/// <summary>
/// An LDAP URL (RFC 4516), as a special_result_attribute value or a referral: ldap://host/dn?attributes?scope?filter.
/// A special attribute's URL is asked of the table's own servers, whatever host it names, as Postfix asks it.
/// </summary>
internal sealed record LdapUrl(string Host, string Dn, string[] Attributes, SearchScope Scope, string Filter)
{
    public static bool TryParse(string value, [NotNullWhen(true)] out LdapUrl? url)
    {
        url = null;
        int start = value.StartsWith("ldap://", StringComparison.OrdinalIgnoreCase) ? 7
            : value.StartsWith("ldaps://", StringComparison.OrdinalIgnoreCase) ? 8 : 0;
        if (start == 0)
        {
            return false;
        }
        int slash = value.IndexOf('/', start);
        string[] parts = slash < 0 ? [""] : value[(slash + 1)..].Split('?');
        SearchScope? scope = (parts.Length > 2 ? parts[2].ToLowerInvariant() : "") switch
        {
            "" or "base" => SearchScope.Base,
            "one" => SearchScope.OneLevel,
            "sub" => SearchScope.Subtree,
            _ => null,
        };
        if (scope is null)
        {
            return false;
        }
        string[] attributes = parts.Length > 1 ? parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries) : [];
        string filter = parts.Length > 3 && parts[3].Length > 0 ? Uri.UnescapeDataString(parts[3]) : "(objectClass=*)";
        url = new LdapUrl(slash < 0 ? value[start..] : value[start..slash], Uri.UnescapeDataString(parts[0]), attributes, scope.Value, filter);
        return true;
    }
}
