using System.Text;

namespace Edge.Delivery.Local;

/// <summary>
/// The destinations of an alias's value or of a line of a .forward or :include: file, as aliases(5) writes them:
/// separated by commas; a destination with white space or commas is quoted ("|/usr/bin/vacation user"); a
/// backslash keeps the next character as it is.
/// </summary>
internal static class DestinationList
{
    public static List<string> Parse(string text)
    {
        var destinations = new List<string>();
        var current = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == '\\' && quoted && i + 1 < text.Length)
            {
                current.Append(text[++i]);
            }
            else if (c == ',' && !quoted)
            {
                Add(destinations, current);
            }
            else
            {
                current.Append(c);
            }
        }
        Add(destinations, current);
        return destinations;
    }

    /// <summary>The destinations of a file read line by line; lines that start with "#" are comments.</summary>
    public static List<string> ParseLines(string text) =>
        [.. text.Split('\n').Where(line => !line.StartsWith('#')).SelectMany(Parse)];

    private static void Add(List<string> destinations, StringBuilder current)
    {
        string destination = current.ToString().Trim();
        current.Clear();
        if (destination.Length > 0)
        {
            destinations.Add(destination);
        }
    }
}
