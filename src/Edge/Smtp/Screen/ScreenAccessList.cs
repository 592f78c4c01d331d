using System.Net;
using Edge.Config;
using Edge.Logging;
using Edge.Net;
using Edge.Tables;

namespace Edge.Smtp.Screen;

/// <summary>What postscreen_access_list says of a client: nothing (go on with the tests), allow it at once, or deny it.</summary>
internal enum ScreenVerdict
{
    Dunno,
    Allow,
    Deny,
}

/// <summary>
/// postscreen_access_list (Postfix's server_acl): permit_mynetworks, permit, reject, dunno and type:table, left to right,
/// the first that decides wins. A table's value is itself such a list, without tables; dunno there goes on with the
/// next item of the outer list. A table that fails, or a value that is not a known word, ends the list undecided,
/// with a warning, as Postfix ignores the rest of the list then.
/// </summary>
internal sealed class ScreenAccessList
{
    private readonly object[] _items;

    private ScreenAccessList(object[] items) => _items = items;

    public static ScreenAccessList Parse(MainConfig config)
    {
        var items = new List<object>();
        foreach (string item in config.GetList("postscreen_access_list"))
        {
            string word = item.ToLowerInvariant();
            if (word is "permit_mynetworks" or "permit" or "reject" or "dunno")
            {
                items.Add(word);
            }
            else if (item.Contains(':'))
            {
                items.Add(TableFactory.Open(item, TableSettings.From(config), out string? error)
                    ?? throw config.Error("postscreen_access_list", $"{item}: {error ?? "cannot open"}"));
            }
            else
            {
                throw config.Error("postscreen_access_list", $"unknown command \"{item}\": expected permit_mynetworks, permit, reject, dunno or type:table");
            }
        }
        return new ScreenAccessList([.. items]);
    }

    /// <summary>The list's verdict for <paramref name="client"/>; a table a server answers is asked without holding a thread.</summary>
    public async ValueTask<ScreenVerdict> EvaluateAsync(IPAddress client, NetworkList mynetworks, CancellationToken cancellationToken)
    {
        string address = client.ToString();
        foreach (object item in _items)
        {
            (ScreenVerdict verdict, bool stop) = item is ILookupTable table
                ? FromTable(await AnswerAsync(table, address, cancellationToken), client, address, mynetworks)
                : (Word((string)item, client, mynetworks), item is "dunno");
            if (verdict != ScreenVerdict.Dunno || stop)
            {
                return verdict;
            }
        }
        return ScreenVerdict.Dunno;
    }

    /// <summary>The table's value for <paramref name="address"/>: found, not found (""), or null when it cannot answer.</summary>
    private static async ValueTask<string?> AnswerAsync(ILookupTable table, string address, CancellationToken cancellationToken)
    {
        try
        {
            return await table.LookupAsync(address, cancellationToken) ?? "";
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or TableLookupException)
        {
            MailLog.Warning($"postscreen_access_list: table lookup error for {address} ({e.Message}) -- ignoring the remainder of this access list", "postscreen");
            return null;
        }
    }

    /// <summary>The verdict of a table's <paramref name="value"/>, and whether the list ends here (an error: the rest is ignored).</summary>
    private static (ScreenVerdict Verdict, bool Stop) FromTable(string? value, IPAddress client, string address, NetworkList mynetworks)
    {
        if (value is null)
        {
            return (ScreenVerdict.Dunno, true);
        }
        foreach (string word in value.Split([' ', ',', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            string lower = word.ToLowerInvariant();
            if (lower is not ("permit_mynetworks" or "permit" or "reject" or "dunno"))
            {
                MailLog.Warning($"postscreen_access_list: {address}: unknown command \"{word}\" in a table's value -- ignoring the remainder of this access list", "postscreen");
                return (ScreenVerdict.Dunno, true);
            }
            if (lower == "dunno")
            {
                return (ScreenVerdict.Dunno, false);
            }
            if (Word(lower, client, mynetworks) is not ScreenVerdict.Dunno and var verdict)
            {
                return (verdict, false);
            }
        }
        return (ScreenVerdict.Dunno, false);
    }

    private static ScreenVerdict Word(string word, IPAddress client, NetworkList mynetworks) => word switch
    {
        "permit" => ScreenVerdict.Allow,
        "reject" => ScreenVerdict.Deny,
        "permit_mynetworks" when mynetworks.Contains(client) => ScreenVerdict.Allow,
        _ => ScreenVerdict.Dunno,
    };
}
