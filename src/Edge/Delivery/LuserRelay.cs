using System.Text;
using Edge.Config;

namespace Edge.Delivery;

/// <summary>
/// luser_relay: where local(8) sends mail for a user it does not know, with the recipient's attributes expanded as
/// local(8) documents them: $user, $extension, $recipient_delimiter, $local, $domain, $recipient, $home and $shell
/// (empty: the user has no account), as $name, ${name}, ${name?text} (text when the attribute is not empty) and
/// ${name:text} (text when it is). A value without "@" is qualified with $myorigin.
/// </summary>
internal sealed class LuserRelay
{
    private readonly string _template;
    private readonly string _origin;

    private LuserRelay(string template, string origin)
    {
        _template = template;
        _origin = origin;
    }

    /// <summary>The catch-all main.cf asks for; null when luser_relay is empty.</summary>
    public static LuserRelay? From(MainConfig config)
    {
        string template = config.Get("luser_relay").Trim();
        if (template.Length == 0)
        {
            return null;
        }
        if (template[0] is '|' or '/' || template.StartsWith(":include:", StringComparison.OrdinalIgnoreCase))
        {
            throw config.Error("luser_relay", $"\"{template}\": commands, files and :include: are not supported by Edge; give an address");
        }
        return new LuserRelay(template, config.Get("myorigin"));
    }

    /// <summary>The address mail for <paramref name="recipient"/> (user, extension and delimiter as found) goes to.</summary>
    public string For(string recipient, string user, string extension, string delimiter)
    {
        int at = recipient.LastIndexOf('@');
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["user"] = user,
            ["extension"] = extension,
            ["recipient_delimiter"] = delimiter,
            ["local"] = at < 0 ? recipient : recipient[..at],
            ["domain"] = at < 0 ? "" : recipient[(at + 1)..],
            ["recipient"] = recipient,
            ["home"] = "",
            ["shell"] = "",
        };
        string address = Expand(_template, attributes);
        return address.Contains('@') ? address : $"{address}@{_origin}";
    }

    private static string Expand(string text, IReadOnlyDictionary<string, string> attributes)
    {
        var result = new StringBuilder();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c != '$' || i + 1 >= text.Length)
            {
                result.Append(c);
                i++;
                continue;
            }
            if (text[i + 1] == '{' && text.IndexOf('}', i) is > 0 and var close)
            {
                string inner = text[(i + 2)..close];
                int op = inner.IndexOfAny(['?', ':']);
                string name = op < 0 ? inner : inner[..op];
                string value = attributes.GetValueOrDefault(name, "");
                result.Append(op < 0 ? value
                    : inner[op] == '?' ? (value.Length > 0 ? inner[(op + 1)..] : "")
                    : (value.Length == 0 ? inner[(op + 1)..] : ""));
                i = close + 1;
                continue;
            }
            int end = i + 1;
            while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] == '_'))
            {
                end++;
            }
            result.Append(attributes.GetValueOrDefault(text[(i + 1)..end], ""));
            i = end;
        }
        return result.ToString();
    }
}
