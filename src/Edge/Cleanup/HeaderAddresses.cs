using System.Text;
using Edge.Mail;

namespace Edge.Cleanup;

/// <summary>
/// A header's addresses rewritten the way Postfix's cleanup and smtp(8) rewrite them: the value is parsed with
/// <see cref="AddressTokens"/>, each address (in internal form) is given to the mapping, and a header in which one
/// changed is written back and folded (cleanup_fold_header(), cleanup_out_header()).
/// </summary>
internal static class HeaderAddresses
{
    /// <summary>The header (name and colon first, CRLF line ends) rewritten; null when no address changed.</summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> header, int nameLength, int tokenLimit, Func<string, string> map)
    {
        // A header that is not UTF-8 is read byte for byte, so what is not an address is written back unchanged.
        Encoding encoding = System.Text.Unicode.Utf8.IsValid(header) ? Encoding.UTF8 : Encoding.Latin1;
        string text = encoding.GetString(header).Replace("\r\n", "\n").TrimEnd('\n');
        int colon = text.IndexOf(':');
        AddressToken? list = AddressTokens.Parse(text[(colon + 1)..], tokenLimit);
        bool changed = false;
        foreach (AddressToken address in AddressTokens.Addresses(list))
        {
            string before = AddressTokens.Internalize(address);
            string after = map(before);
            if (after != before)
            {
                AddressTokens.Replace(address, after);
                changed = true;
            }
        }
        return changed ? encoding.GetBytes(Fold($"{text[..nameLength]}: {AddressTokens.Externalize(list)}")) : null;
    }

    /// <summary>
    /// The lines of a rewritten address list joined while the line stays under 70 characters, each continuation line
    /// starting with a tab unless it starts with white space; CRLF-terminated.
    /// </summary>
    public static string Fold(string header)
    {
        string[] lines = header.Split('\n');
        var output = new StringBuilder(header.Length + 8);
        int lineStart = 0;
        output.Append(lines[0]);
        for (int i = 1; i < lines.Length; i++)
        {
            if (output.Length - lineStart + 1 + lines[i].Length < 70)
            {
                output.Append(' ').Append(lines[i]);
                continue;
            }
            // The tab put before a continuation line does not count, as in Postfix.
            output.Append("\r\n").Append(lines[i].Length > 0 && lines[i][0] is ' ' or '\t' ? "" : "\t");
            lineStart = output.Length;
            output.Append(lines[i]);
        }
        return output.Append("\r\n").ToString();
    }
}
