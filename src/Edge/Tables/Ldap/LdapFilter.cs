namespace Edge.Tables.Ldap;

/// <summary>
/// An RFC 4515 search filter string, as OpenLDAP's ldap_search_ext() takes it (outer parentheses optional), written
/// as the BER of RFC 4511's Filter: and, or, not, equality, substrings, greater/less or equal, presence and
/// approximate match. Values keep their \XX escapes' bytes.
/// </summary>
internal static class LdapFilter
{
    /// <exception cref="FormatException">The filter does not parse.</exception>
    public static void Write(BerWriter ber, string filter)
    {
        string text = filter.Trim();
        if (!text.StartsWith('('))
        {
            text = $"({text})";
        }
        int position = 0;
        Filter(ber, text, ref position);
        if (position != text.Length)
        {
            throw new FormatException($"bad search filter \"{filter}\"");
        }
    }

    private static void Filter(BerWriter ber, string text, ref int position)
    {
        Expect(text, ref position, '(');
        char c = position < text.Length ? text[position] : ')';
        switch (c)
        {
            case '&' or '|':
                position++;
                ber.Begin(c == '&' ? (byte)0xa0 : (byte)0xa1);
                while (position < text.Length && text[position] == '(')
                {
                    Filter(ber, text, ref position);
                }
                ber.End();
                break;
            case '!':
                position++;
                ber.Begin(0xa2);
                Filter(ber, text, ref position);
                ber.End();
                break;
            default:
                Item(ber, text, ref position);
                break;
        }
        Expect(text, ref position, ')');
    }

    private static void Item(BerWriter ber, string text, ref int position)
    {
        int end = text.IndexOf(')', position);
        int equals = text.IndexOf('=', position);
        if (end < 0 || equals < 0 || equals > end)
        {
            throw new FormatException($"bad search filter item at \"{text[position..]}\"");
        }
        string attribute = text[position..equals];
        string value = text[(equals + 1)..end];
        position = end;
        byte tag = 0xa3;
        if (attribute.EndsWith('>') || attribute.EndsWith('<') || attribute.EndsWith('~'))
        {
            tag = attribute[^1] switch { '>' => 0xa5, '<' => 0xa6, _ => 0xa8 };
            attribute = attribute[..^1];
        }
        if (attribute.Length == 0 || attribute.Contains(':'))
        {
            throw new FormatException($"bad search filter attribute \"{attribute}\" (extensible matches are not supported)");
        }
        if (tag == 0xa3 && value == "*")
        {
            ber.String(attribute, 0x87);
            return;
        }
        if (tag == 0xa3 && value.Contains('*'))
        {
            string[] parts = value.Split('*');
            ber.Begin(0xa4).String(attribute).Begin(0x30);
            for (int i = 0; i < parts.Length; i++)
            {
                if (parts[i].Length > 0)
                {
                    ber.Primitive(i == 0 ? (byte)0x80 : i == parts.Length - 1 ? (byte)0x82 : (byte)0x81, Unescape(parts[i]));
                }
            }
            ber.End().End();
            return;
        }
        ber.Begin(tag).String(attribute).Primitive(0x04, Unescape(value)).End();
    }

    /// <summary>A value's bytes, \XX escapes decoded.</summary>
    private static byte[] Unescape(string value)
    {
        var bytes = new List<byte>(value.Length);
        byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(value);
        for (int i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] != '\\')
            {
                bytes.Add(utf8[i]);
                continue;
            }
            if (i + 2 >= utf8.Length || !byte.TryParse(System.Text.Encoding.ASCII.GetString(utf8, i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
            {
                throw new FormatException($"bad escape in search filter value \"{value}\"");
            }
            bytes.Add(b);
            i += 2;
        }
        return [.. bytes];
    }

    private static void Expect(string text, ref int position, char c)
    {
        if (position >= text.Length || text[position] != c)
        {
            throw new FormatException($"bad search filter \"{text}\": expected '{c}' at {position}");
        }
        position++;
    }
}
