using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Edge.Restrictions;

/// <summary>
/// A DNS list of a reject_rbl_client, permit_dnswl_client or reject_rhsbl_* restriction: its domain, and the
/// listing addresses that count ("zen.example=127.0.0.[2..11;20]"; without a filter any address counts).
/// </summary>
internal sealed class DnsList
{
    private readonly (int Low, int High)[][]? _filter;

    private DnsList(string domain, (int, int)[][]? filter)
    {
        Domain = domain;
        _filter = filter;
    }

    public string Domain { get; }

    /// <summary>Parses "domain" or "domain=d.d.d.d", each d a number or "[n;n..m]"; null if malformed.</summary>
    public static DnsList? Parse(string text)
    {
        int equals = text.IndexOf('=');
        string domain = (equals < 0 ? text : text[..equals]).Trim('.');
        if (domain.Length == 0)
        {
            return null;
        }
        if (equals < 0)
        {
            return new DnsList(domain, null);
        }
        string[] octets = SplitOctets(text[(equals + 1)..]);
        if (octets.Length != 4)
        {
            return null;
        }
        var filter = new (int, int)[4][];
        for (int i = 0; i < 4; i++)
        {
            if (ParseOctet(octets[i]) is not { } ranges)
            {
                return null;
            }
            filter[i] = ranges;
        }
        return new DnsList(domain, filter);
    }

    /// <summary>Splits at the dots that are not inside a "[n..m]" pattern.</summary>
    private static string[] SplitOctets(string filter)
    {
        var octets = new List<string>();
        int start = 0;
        bool bracket = false;
        for (int i = 0; i < filter.Length; i++)
        {
            bracket = filter[i] == '[' || (bracket && filter[i] != ']');
            if (filter[i] == '.' && !bracket)
            {
                octets.Add(filter[start..i]);
                start = i + 1;
            }
        }
        octets.Add(filter[start..]);
        return [.. octets];
    }

    private static (int, int)[]? ParseOctet(string octet)
    {
        bool bracketed = octet.StartsWith('[') && octet.EndsWith(']');
        string[] items = bracketed ? octet[1..^1].Split(';') : [octet];
        var ranges = new List<(int, int)>();
        foreach (string item in items)
        {
            int dots = item.IndexOf("..", StringComparison.Ordinal);
            bool range = bracketed && dots > 0;
            if (!int.TryParse(range ? item[..dots] : item, out int low) || !int.TryParse(range ? item[(dots + 2)..] : item, out int high)
                || low is < 0 or > 255 || high < low || high > 255)
            {
                return null;
            }
            ranges.Add((low, high));
        }
        return [.. ranges];
    }

    /// <summary>Whether the list's answer lists the name: any address without a filter, else one the filter matches.</summary>
    public bool Lists(IReadOnlyList<IPAddress> addresses) =>
        addresses.Any(address => _filter is null || Matches(address));

    private bool Matches(IPAddress address)
    {
        byte[] bytes = address.GetAddressBytes();
        if (bytes.Length != 4)
        {
            return false;
        }
        for (int i = 0; i < 4; i++)
        {
            if (!_filter![i].Any(r => bytes[i] >= r.Low && bytes[i] <= r.High))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The query for a client address: "9.100.51.198.zone", or IPv6 nibbles in reverse.</summary>
    public string QueryFor(IPAddress client)
    {
        if (client.IsIPv4MappedToIPv6)
        {
            client = client.MapToIPv4();
        }
        byte[] bytes = client.GetAddressBytes();
        var name = new StringBuilder(80);
        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            if (client.AddressFamily == AddressFamily.InterNetwork)
            {
                name.Append(bytes[i]).Append('.');
            }
            else
            {
                name.Append("0123456789abcdef"[bytes[i] & 0xf]).Append('.').Append("0123456789abcdef"[bytes[i] >> 4]).Append('.');
            }
        }
        return name.Append(Domain).ToString();
    }

    /// <summary>The query for a domain of a reject_rhsbl_* check: "domain.zone".</summary>
    public string QueryFor(string domain) => $"{domain.TrimEnd('.')}.{Domain}";
}
