using Edge.Config;

namespace Edge.Delivery.Local;

/// <summary>
/// luser_relay: where local(8) sends mail for a user it does not know, with the recipient's attributes expanded as
/// local(8) documents them (<see cref="LocalExpansion"/>; $home and $shell are empty: the user has no account). A
/// value without "@" is qualified with $myorigin. Postfix gives "|command" and "/file" no special meaning here, so
/// Edge refuses them rather than mail an address that looks like one.
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
            throw config.Error("luser_relay", $"\"{template}\": luser_relay is an address; Postfix gives commands, files and :include: no meaning here");
        }
        return new LuserRelay(template, config.Get("myorigin"));
    }

    /// <summary>The address mail for <paramref name="recipient"/> goes to.</summary>
    public string For(LocalRecipient recipient)
    {
        string address = LocalExpansion.Expand(_template, recipient.Attributes(null));
        return address.Contains('@') ? address : $"{address}@{_origin}";
    }
}
