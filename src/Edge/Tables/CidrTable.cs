using System.Net;
using Edge.Config;
using Edge.Net;

namespace Edge.Tables;

/// <summary>
/// cidr:/path — cidr_table(5): "network/prefix result" and "address result" lines, tried in file order; the
/// first network that holds the looked-up address gives its result. Keys that are not an IP address (a host
/// name) match nothing.
/// </summary>
internal sealed class CidrTable((Network Network, string Result)[] entries) : ILookupTable
{
    public bool IsPattern => true;

    public string? Lookup(string key)
    {
        string address = key.StartsWith('[') && key.EndsWith(']') ? key[1..^1] : key;
        if (!IPAddress.TryParse(address, out IPAddress? ip))
        {
            return null;
        }
        Span<byte> bytes = stackalloc byte[16];
        bytes = bytes[..Network.Bytes(ip, bytes)];
        foreach ((Network network, string result) in entries)
        {
            if (network.Contains(bytes))
            {
                return result;
            }
        }
        return null;
    }

    public static CidrTable Load(string path)
    {
        var entries = new List<(Network, string)>();
        foreach (LogicalLine line in LogicalLineReader.Read(File.ReadAllText(path), path))
        {
            int space = line.Text.IndexOfAny([' ', '\t']);
            if (space <= 0)
            {
                throw new TableException(path, line.Line, $"expected \"network/prefix result\", found \"{line.Text}\"");
            }
            string pattern = line.Text[..space];
            if (!Network.TryParse(pattern, out Network network))
            {
                throw new TableException(path, line.Line, $"\"{pattern}\" is not an address or network/prefix");
            }
            if (network.HasHostBits(out string cleared))
            {
                throw new TableException(path, line.Line, $"non-null host address bits in \"{pattern}\", perhaps you should use \"{cleared}\"");
            }
            entries.Add((network, line.Text[space..].Trim()));
        }
        return new CidrTable(entries.ToArray());
    }
}
