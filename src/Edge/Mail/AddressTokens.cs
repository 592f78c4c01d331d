using System.Text;

namespace Edge.Mail;

/// <summary>One token of an RFC 822 address list, or an address (a group of tokens) in the parse tree.</summary>
internal sealed class AddressToken(int type, string text = "")
{
    public const int Atom = 256;
    public const int QuotedString = 257;
    public const int Comment = 258;
    public const int DomainLiteral = 259;
    public const int Address = 260;
    public const int StartGroup = 261;

    /// <summary>An operator character, or one of the constants above.</summary>
    public int Type { get; set; } = type;

    /// <summary>An atom's text, a quoted string's or domain literal's content (unquoted), a comment with its parentheses.</summary>
    public string Text { get; } = text;

    public AddressToken? Prev { get; set; }
    public AddressToken? Next { get; set; }

    /// <summary>The first and last token of an address.</summary>
    public AddressToken? Head { get; set; }
    public AddressToken? Tail { get; set; }

    /// <summary>The address this token belongs to; null at the top level.</summary>
    public AddressToken? Owner { get; set; }
}

/// <summary>
/// Postfix's tok822 (tok822_parse.c, tok822_tree.c), which cleanup uses to find and rewrite the addresses in From:,
/// To: and the other address headers: the text is split into tokens (atoms, quoted strings, comments, domain
/// literals, the operators of RFC 822 plus % ! |) and parsed right to left into a list in which each address
/// (what sits between angle brackets, or a bare addr-spec between commas) is one node. Written back, a list keeps
/// every token it did not understand, as Postfix's does, so that a rewritten header reads as Postfix would write it.
/// </summary>
internal static class AddressTokens
{
    private const string Operators = "|%!()<>@,;:\\\".[]";

    /// <summary>The token list of <paramref name="text"/> with its addresses grouped; null for text without tokens.</summary>
    public static AddressToken? Parse(string text, int tokenLimit)
    {
        AddressToken? first = Scan(text, out AddressToken? last, tokenLimit);
        if (first is null)
        {
            return null;
        }
        var head = new AddressToken(0);
        var tail = new AddressToken(0);
        Glue(head, first);
        Glue(last!, tail);
        bool word = true;
        bool group = false;
        AddressToken right = tail;
        AddressToken tp = tail.Prev!;
        while (tp.Type != 0)
        {
            if (tp.Type == AddressToken.Comment)
            {
                // Comments move to the right of the address they were in.
                AddressToken prev = Unlink(tp)!;
                right = Prepend(right, tp);
                tp = prev;
                continue;
            }
            if (tp.Type == ';')
            {
                right = Group(tp, right, addComma: true);
                group = true;
                word = true;
            }
            else if (tp.Type == ':' && group)
            {
                tp.Type = AddressToken.StartGroup;
                Group(tp, right, addComma: false);
                while (tp.Type != 0 && tp.Type != ',')
                {
                    tp = tp.Prev!;
                }
                right = tp;
                continue;
            }
            else if (tp.Type == '>')
            {
                right = Group(tp, right, addComma: true);
                while (tp.Type != 0 && tp.Type != '<')
                {
                    if (tp.Type == AddressToken.Comment)
                    {
                        AddressToken prev = Unlink(tp)!;
                        right = Prepend(right, tp);
                        tp = prev;
                        continue;
                    }
                    tp = tp.Prev!;
                }
                Group(tp, right, addComma: false);
                while (tp.Type != 0 && (tp.Type > 0xff || !">;,:".Contains((char)tp.Type)))
                {
                    tp = tp.Prev!;
                }
                right = tp;
                word = true;
                continue;
            }
            else if (tp.Type is AddressToken.Atom or AddressToken.QuotedString or AddressToken.DomainLiteral)
            {
                if (!word)
                {
                    right = Group(tp, right, addComma: true).Next!;
                }
                word = false;
            }
            else if (tp.Type == ',')
            {
                right = Group(tp, right, addComma: false);
                word = true;
            }
            else
            {
                word = true;
            }
            tp = tp.Prev!;
        }
        Group(tp, right, addComma: false);
        AddressToken? list = head.Next != tail ? head.Next : null;
        CutBefore(head.Next!);
        CutBefore(tail);
        return list;
    }

    /// <summary>The addresses at the top level of <paramref name="list"/>, in order.</summary>
    public static List<AddressToken> Addresses(AddressToken? list)
    {
        var addresses = new List<AddressToken>();
        for (AddressToken? tp = list; tp is not null; tp = tp.Next)
        {
            if (tp.Type == AddressToken.Address)
            {
                addresses.Add(tp);
            }
        }
        return addresses;
    }

    /// <summary>An address node's tokens in internal form: quoted strings without their quotes, nothing between tokens.</summary>
    public static string Internalize(AddressToken address)
    {
        var text = new StringBuilder();
        for (AddressToken? tp = address.Head; tp is not null; tp = tp.Next)
        {
            switch (tp.Type)
            {
                case AddressToken.Address:
                    text.Append(Internalize(tp));
                    break;
                case AddressToken.Comment or AddressToken.Atom or AddressToken.QuotedString:
                    text.Append(tp.Text);
                    break;
                case AddressToken.DomainLiteral:
                    text.Append('[').Append(tp.Text).Append(']');
                    break;
                case AddressToken.StartGroup:
                    text.Append(':');
                    break;
                default:
                    text.Append((char)tp.Type);
                    break;
            }
        }
        return text.ToString();
    }

    /// <summary>Replaces an address node's tokens with those of <paramref name="internalForm"/>.</summary>
    public static void Replace(AddressToken address, string internalForm)
    {
        AddressToken? head = Scan(Quote822Local(internalForm), out AddressToken? tail, 0);
        address.Head = head;
        address.Tail = tail;
        for (AddressToken? tp = head; tp is not null; tp = tp.Next)
        {
            tp.Owner = address;
        }
    }

    /// <summary>
    /// tok822_externalize(TOK822_STR_HEAD): the list written back as a header value, a newline after each comma
    /// (for the folding that follows), the non-address text of an overlong address expression reduced to &lt;address&gt;.
    /// </summary>
    public static string Externalize(AddressToken? list)
    {
        var text = new StringBuilder();
        int start = 0;
        AddressToken? address = null;
        int addressLength = 0;
        for (AddressToken? tp = list; tp is not null; tp = tp.Next)
        {
            switch (tp.Type)
            {
                case ',':
                    StripOverlong(text, start, address, addressLength);
                    text.Append(",\n");
                    start = text.Length;
                    address = null;
                    addressLength = 0;
                    continue;
                case AddressToken.Address:
                    address = tp;
                    int before = text.Length;
                    text.Append(Quote822Local(Internalize(tp)));
                    addressLength = text.Length - before;
                    break;
                case AddressToken.Atom or AddressToken.Comment:
                    text.Append(tp.Text);
                    break;
                case AddressToken.QuotedString:
                    text.Append('"');
                    CopyQuoted(text, tp.Text, "\"\\\r\n");
                    text.Append('"');
                    break;
                case AddressToken.DomainLiteral:
                    text.Append('[');
                    CopyQuoted(text, tp.Text, "\\\r\n");
                    text.Append(']');
                    break;
                case AddressToken.StartGroup:
                    text.Append(':');
                    break;
                case '<':
                    if (tp.Next is { Type: '>' })
                    {
                        address = tp;
                        addressLength = 0;
                    }
                    text.Append('<');
                    break;
                default:
                    text.Append((char)tp.Type);
                    break;
            }
            if (AppendSpace(tp))
            {
                text.Append(' ');
            }
        }
        StripOverlong(text, start, address, addressLength);
        return text.ToString();
    }

    /// <summary>
    /// Postfix's guard against the Sendmail overflow of CERT CA-2003-07: an address expression with more than 250
    /// bytes of text besides its address is reduced to "&lt;address&gt;".
    /// </summary>
    private static void StripOverlong(StringBuilder text, int start, AddressToken? address, int addressLength)
    {
        if (address is null || text.Length - addressLength <= start + 250)
        {
            return;
        }
        text.Length = start;
        text.Append('<');
        if (address.Type == AddressToken.Address)
        {
            text.Append(Quote822Local(Internalize(address)));
        }
        text.Append('>');
    }

    private static void CopyQuoted(StringBuilder text, string value, string quote)
    {
        foreach (char c in value)
        {
            if (quote.Contains(c))
            {
                text.Append('\\');
            }
            text.Append(c);
        }
    }

    private static bool AppendSpace(AddressToken tp)
    {
        if (tp.Next is not { } next || tp.Owner is not null)
        {
            return false;
        }
        if (tp.Type is ',' or AddressToken.StartGroup || next.Type == '<')
        {
            return true;
        }
        return IsWord(tp) && IsWord(next);
    }

    private static bool IsWord(AddressToken tp) =>
        tp.Type is AddressToken.Atom or AddressToken.QuotedString or AddressToken.Comment or AddressToken.DomainLiteral or AddressToken.Address;

    /// <summary>tok822_scan(): the tokens of <paramref name="text"/> as a flat list (at most <paramref name="limit"/> when positive).</summary>
    private static AddressToken? Scan(string text, out AddressToken? tail, int limit)
    {
        AddressToken? head = null;
        tail = null;
        int count = 0;
        int i = 0;
        while (i < text.Length)
        {
            char ch = text[i++];
            if (ch is ' ' or '\t' or '\r' or '\n')
            {
                continue;
            }
            AddressToken token;
            if (ch == '(')
            {
                token = new AddressToken(AddressToken.Comment, ScanComment(text, ref i));
            }
            else if (ch == '[')
            {
                token = new AddressToken(AddressToken.DomainLiteral, Collect(text, ref i, c => c != ']', skipLast: true));
            }
            else if (ch == '"')
            {
                token = new AddressToken(AddressToken.QuotedString, Collect(text, ref i, c => c != '"', skipLast: true));
            }
            else if (ch != '\\' && Operators.Contains(ch))
            {
                token = new AddressToken(ch);
            }
            else
            {
                i--;
                string atom = Collect(text, ref i, c => c is not (' ' or '\t' or '\r' or '\n') && !Operators.Contains(c), skipLast: false);
                // An atom that would need quoting is written back quoted.
                bool quote = atom.Any(c => c == ' ' || char.IsControl(c) || Operators.Contains(c));
                token = new AddressToken(quote ? AddressToken.QuotedString : AddressToken.Atom, atom);
            }
            if (head is null)
            {
                head = tail = token;
            }
            else
            {
                tail = Append(tail!, token);
            }
            if (limit > 0 && ++count >= limit)
            {
                break;
            }
        }
        return head;
    }

    /// <summary>COLLECT(): characters while <paramref name="keep"/> holds, a backslash taking the next one as it is.</summary>
    private static string Collect(string text, ref int i, Func<char, bool> keep, bool skipLast)
    {
        var value = new StringBuilder();
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '\\')
            {
                if (++i >= text.Length)
                {
                    break;
                }
                c = text[i];
            }
            else if (!keep(c))
            {
                break;
            }
            value.Append(c is '\t' or '\r' or '\n' ? ' ' : c);
            i++;
        }
        if (skipLast && i < text.Length)
        {
            i++;
        }
        return value.ToString();
    }

    /// <summary>A comment, nested ones included, kept in its external form with its parentheses.</summary>
    private static string ScanComment(string text, ref int i)
    {
        var value = new StringBuilder("(");
        int level = 1;
        while (i < text.Length)
        {
            char c = text[i++];
            value.Append(c);
            if (c == '(')
            {
                level++;
            }
            else if (c == ')')
            {
                if (--level == 0)
                {
                    break;
                }
            }
            else if (c == '\\')
            {
                if (i >= text.Length)
                {
                    break;
                }
                value.Append(text[i++]);
            }
        }
        return value.ToString();
    }

    /// <summary>
    /// quote_822_local(): the address with its local part quoted when it is not a dot-string (a source route and the
    /// domain stay as they are).
    /// </summary>
    public static string Quote822Local(string address)
    {
        if (!NeedsQuoting(address))
        {
            return address;
        }
        (int start, int end) = LocalPart(address);
        ReadOnlySpan<char> local = address.AsSpan(start, end - start);
        var text = new StringBuilder(address.Length + 4);
        text.Append(address, 0, start).Append('"');
        foreach (char c in local)
        {
            if (c is '"' or '\\' or '\r')
            {
                text.Append('\\');
            }
            text.Append(c);
        }
        return text.Append('"').Append(address, end, address.Length - end).ToString();
    }

    /// <summary>Whether <paramref name="address"/>'s local part is not a dot-string, so that quote_822_local() quotes it.</summary>
    public static bool NeedsQuoting(ReadOnlySpan<char> address)
    {
        (int start, int end) = LocalPart(address);
        return !IsDotString(address[start..end]);
    }

    /// <summary>Where the local part lies: after a source route, before the last "@".</summary>
    private static (int Start, int End) LocalPart(ReadOnlySpan<char> address)
    {
        int start = address.StartsWith('@') && address.IndexOf(':') is > 0 and var colon ? colon + 1 : 0;
        int end = address.LastIndexOf('@');
        return (start, end < start ? address.Length : end);
    }

    private static bool IsDotString(ReadOnlySpan<char> local)
    {
        if (local.IsEmpty || local[0] == '.' || local[^1] == '.' || local.IndexOf("..") >= 0)
        {
            return false;
        }
        foreach (char c in local)
        {
            if (c == ' ' || char.IsControl(c) || "()<>@,;:\\\"[]".Contains(c))
            {
                return false;
            }
        }
        return true;
    }

    private static void Glue(AddressToken left, AddressToken right)
    {
        left.Next = right;
        right.Prev = left;
    }

    /// <summary>tok822_group(): the tokens strictly between <paramref name="left"/> and <paramref name="right"/> become one address.</summary>
    private static AddressToken Group(AddressToken left, AddressToken right, bool addComma)
    {
        if (left != right && left.Next is { } first && first != right)
        {
            CutBefore(right);
            CutBefore(first);
            var group = new AddressToken(AddressToken.Address);
            SubAppend(group, first);
            Append(left, group);
            // right and what follows it stay at left's level: glued, not walked, so a long list is not quadratic.
            Glue(group, right);
            if (addComma)
            {
                Append(left, new AddressToken(','));
            }
        }
        return left;
    }

    /// <summary>tok822_append(): <paramref name="t2"/> and what follows it inserted after <paramref name="t1"/>; the last inserted.</summary>
    private static AddressToken Append(AddressToken t1, AddressToken t2)
    {
        AddressToken? next = t1.Next;
        t1.Next = t2;
        t2.Prev = t1;
        t2.Owner = t1.Owner;
        while (t2.Next is not null)
        {
            t2 = t2.Next;
            t2.Owner = t1.Owner;
        }
        t2.Next = next;
        if (next is not null)
        {
            next.Prev = t2;
        }
        return t2;
    }

    /// <summary>tok822_prepend(): <paramref name="t2"/> inserted before <paramref name="t1"/>.</summary>
    private static AddressToken Prepend(AddressToken t1, AddressToken t2)
    {
        AddressToken? prev = t1.Prev;
        if (prev is not null)
        {
            prev.Next = t2;
        }
        t2.Prev = prev;
        t2.Owner = t1.Owner;
        t2.Next = t1;
        t1.Prev = t2;
        return t2;
    }

    private static void CutBefore(AddressToken tp)
    {
        if (tp.Prev is { } prev)
        {
            prev.Next = null;
            tp.Prev = null;
        }
    }

    private static AddressToken? Unlink(AddressToken tp)
    {
        AddressToken? prev = tp.Prev;
        AddressToken? next = tp.Next;
        if (prev is not null)
        {
            prev.Next = next;
        }
        if (next is not null)
        {
            next.Prev = prev;
        }
        tp.Prev = tp.Next = null;
        return prev;
    }

    private static void SubAppend(AddressToken group, AddressToken first)
    {
        group.Head = first;
        first.Owner = group;
        AddressToken last = first;
        while (last.Next is not null)
        {
            last = last.Next;
            last.Owner = group;
        }
        group.Tail = last;
    }
}
