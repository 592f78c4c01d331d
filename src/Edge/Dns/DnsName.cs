using System.Globalization;
using System.Text;

namespace Edge.Dns;

/// <summary>
/// Domain names as the resolver handles them: ASCII, without the trailing dot, "" for the root. Names read from
/// the wire write a label byte that is not printable ASCII, a dot or a backslash as \DDD, so a reply's name
/// never compares equal to a different name by accident.
/// </summary>
internal static class DnsName
{
    /// <summary>RFC 1035 §2.3.4: 255 octets on the wire, labels of up to 63.</summary>
    public const int MaxWireLength = 255;
    public const int MaxLabelLength = 63;

    private static readonly IdnMapping Idn = new();

    /// <summary>
    /// The name as it is queried: one trailing dot removed, non-ASCII labels converted to their A-label
    /// (xn--) form. Null when it cannot be a domain name: an empty label, a label or name too long, a space,
    /// control character or backslash, a label IDNA rejects.
    /// </summary>
    public static string? Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }
        if (name.Length == 0)
        {
            return "";
        }
        string[] labels = name.Split('.');
        int wireLength = 1;
        for (int i = 0; i < labels.Length; i++)
        {
            string label = labels[i];
            if (!Ascii.IsValid(label))
            {
                try
                {
                    // Edge runs with InvariantGlobalization, where IdnMapping is plain Punycode without the
                    // UTS #46 mapping: lower-case first (invariant casing covers all of Unicode) so MÜNCHEN and
                    // münchen are one name. NFC is not applied — unavailable in that mode; mail software
                    // sends composed text.
                    label = Idn.GetAscii(label.ToLowerInvariant());
                }
                catch (ArgumentException)
                {
                    return null;
                }
                labels[i] = label;
            }
            if (label.Length is 0 or > MaxLabelLength)
            {
                return null;
            }
            foreach (char c in label)
            {
                // Backslash is excluded because it introduces the \DDD escapes of names read from replies.
                if (c is <= ' ' or >= '\x7f' or '\\')
                {
                    return null;
                }
            }
            wireLength += label.Length + 1;
        }
        return wireLength > MaxWireLength ? null : string.Join('.', labels);
    }

    /// <summary>DNS compares names ASCII case-insensitively (RFC 4343); normalized names are ASCII.</summary>
    public static bool Equal(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes a normalized name uncompressed.</summary>
    public static void Write(List<byte> output, string name)
    {
        if (name.Length > 0)
        {
            foreach (string label in name.Split('.'))
            {
                output.Add((byte)label.Length);
                foreach (char c in label)
                {
                    output.Add((byte)c);
                }
            }
        }
        output.Add(0);
    }

    /// <summary>Appends one label read from the wire, escaping what would be ambiguous in text.</summary>
    public static void AppendLabel(StringBuilder builder, ReadOnlySpan<byte> label)
    {
        if (builder.Length > 0)
        {
            builder.Append('.');
        }
        foreach (byte b in label)
        {
            if (b is > (byte)' ' and < 0x7f and not (byte)'.' and not (byte)'\\')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('\\').Append(b.ToString("D3", CultureInfo.InvariantCulture));
            }
        }
    }
}
