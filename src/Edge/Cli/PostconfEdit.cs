using System.Text;

namespace Edge.Cli;

/// <summary>
/// postconf -e, -X and -# on main.cf, as Postfix's postconf_edit.c does them: every logical line that sets a named
/// parameter is replaced by "name = value" (-e), removed (-X) or commented out, continuation lines too (-#); a -e
/// parameter main.cf does not set is appended. Comments, blank lines and the other parameters stay as they were, and
/// the file is replaced in one rename, so that a server reading it never sees half of it.
/// </summary>
internal static class PostconfEdit
{
    public enum Mode
    {
        Edit,
        Remove,
        CommentOut,
    }

    /// <summary>Returns the exit status; errors and warnings go to <paramref name="stderr"/> as postconf's.</summary>
    public static int Run(string configDirectory, IReadOnlyList<string> arguments, Mode mode, TextWriter stderr)
    {
        var edits = new Dictionary<string, string?>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (string argument in arguments)
        {
            string text = argument.TrimStart();
            if (text.Contains('\n'))
            {
                return Fatal(stderr, "-e, -X, or -# accepts no multi-line input");
            }
            if (text.StartsWith('#'))
            {
                return Fatal(stderr, "-e, -X, or -# accepts no comment input");
            }
            string name;
            string? value = null;
            if (mode == Mode.Edit)
            {
                int equals = text.IndexOf('=');
                if (equals < 0)
                {
                    return Fatal(stderr, $"missing '=' after attribute name: \"{argument}\"");
                }
                (name, value) = (text[..equals].Trim(), text[(equals + 1)..].Trim());
                if (name.Length == 0)
                {
                    return Fatal(stderr, $"missing attribute name: \"{argument}\"");
                }
            }
            else
            {
                name = text.Trim();
                if (name.Length == 0)
                {
                    return Fatal(stderr, "-X or -# requires non-blank parameter names");
                }
                if (name.Contains('='))
                {
                    return Fatal(stderr, "-X or -# requires parameter names without value");
                }
            }
            if (edits.TryGetValue(name, out string? earlier))
            {
                stderr.WriteLine($"postconf: warning: ignoring earlier request: '{name} = {earlier}'");
                order.Remove(name);
            }
            edits[name] = value;
            order.Add(name);
        }
        string path = Path.Combine(configDirectory, "main.cf");
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fatal(stderr, $"open {path} for reading: {e.Message}");
        }
        var output = new StringBuilder();
        var found = new HashSet<string>(StringComparer.Ordinal);
        bool interesting = false;
        foreach (string line in lines)
        {
            string trimmed = line.TrimStart();
            if (trimmed.Length == 0 || trimmed.StartsWith('#'))
            {
                output.Append(line).Append('\n');
                continue;
            }
            if (char.IsWhiteSpace(line[0]))
            {
                // A continuation line belongs to the logical line above it.
                if (!interesting)
                {
                    output.Append(line).Append('\n');
                }
                else if (mode == Mode.CommentOut)
                {
                    output.Append('#').Append(line).Append('\n');
                }
                continue;
            }
            int end = line.IndexOfAny([' ', '\t', '=']);
            string key = end < 0 ? line : line[..end];
            interesting = edits.ContainsKey(key);
            if (!interesting)
            {
                output.Append(line).Append('\n');
                continue;
            }
            if (!found.Add(key))
            {
                stderr.WriteLine($"postconf: warning: {path}: multiple entries for \"{key}\"");
            }
            _ = mode switch
            {
                Mode.Edit => output.Append(key).Append(" = ").Append(edits[key]).Append('\n'),
                Mode.CommentOut => output.Append('#').Append(line).Append('\n'),
                _ => output,
            };
        }
        if (mode == Mode.Edit)
        {
            foreach (string name in order.Where(n => !found.Contains(n)))
            {
                output.Append(name).Append(" = ").Append(edits[name]).Append('\n');
            }
        }
        string temporary = path + ".tmp";
        try
        {
            File.WriteAllText(temporary, output.ToString());
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            return Fatal(stderr, $"write {path}: {e.Message}");
        }
        return 0;
    }

    private static int Fatal(TextWriter stderr, string message)
    {
        stderr.WriteLine($"postconf: fatal: {message}");
        return 1;
    }
}
