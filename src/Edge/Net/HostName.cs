using System.Net;

namespace Edge.Net;

/// <summary>Host name syntax as Postfix's valid_hostname(): dot-separated labels of letters, digits and hyphens.</summary>
internal static class HostName
{
    public static bool IsValid(string name)
    {
        if (name.Length is 0 or > 255 || IPAddress.TryParse(name, out _))
        {
            return false;
        }
        foreach (string label in name.TrimEnd('.').Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-'
                || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }
        return true;
    }
}
