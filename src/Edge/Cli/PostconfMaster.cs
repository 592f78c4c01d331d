using System.Text;
using Edge.Config;

namespace Edge.Cli;

/// <summary>
/// <c>edge postconf -M [-f] [service[/type] ...]</c>: master.cf's service lines as Postfix's postconf prints them, the
/// seven standard fields at their columns, each "-o name=value" on a line of its own with -f (folded at 80 columns
/// with a four-space indent; "-o { name = value }" as "name=value"), arguments with white space in braces; with names, only the matching services (a
/// "*" matches any name), and a warning for a name no service has.
/// </summary>
internal static class PostconfMaster
{
    private static readonly int[] Columns = [0, 11, 17, 25, 33, 41, 49, 57];
    private const int LineLimit = 80;
    private const string Indent = "    ";

    public static int Run(string? configDir, bool fold, IReadOnlyList<string> services, TextWriter stdout, TextWriter stderr)
    {
        MasterConfig.Load(configDir);
        string file = configDir is null ? EmbeddedDefaults.MasterCfName : Path.Combine(configDir, "master.cf");
        string text = configDir is null ? EmbeddedDefaults.Read("master.cf") : ConfigFile.Read(file);
        var matched = new int[services.Count];
        foreach (IReadOnlyList<string> fields in MasterCfParser.Fields(text, file))
        {
            bool wanted = services.Count == 0;
            for (int i = 0; i < services.Count; i++)
            {
                if (Matches(services[i], fields[0], fields[1]))
                {
                    matched[i]++;
                    wanted = true;
                }
            }
            if (wanted)
            {
                stdout.WriteLine(Format(fields, fold));
            }
        }
        for (int i = 0; i < services.Count; i++)
        {
            if (matched[i] == 0)
            {
                stderr.WriteLine($"postconf: warning: unmatched request: \"{services[i]}\"");
            }
        }
        return 0;
    }

    private static bool Matches(string request, string name, string type)
    {
        string[] parts = request.Split('/', 2);
        return (parts[0] is "*" || parts[0] == name) && (parts.Length == 1 || parts[1] is "*" || parts[1] == type);
    }

    /// <summary>Postfix's pcf_print_master_entry().</summary>
    private static string Format(IReadOnlyList<string> fields, bool fold)
    {
        var line = new StringBuilder();
        int length = 0;
        void Add(string text)
        {
            line.Append(text);
            length += text.Length;
        }
        int field = 0;
        for (; field < 8; field++)
        {
            if (length > 0)
            {
                do
                {
                    Add(" ");
                }
                while (length < Columns[field]);
            }
            Add(fields[field]);
        }
        bool inOptions = true;
        for (; field < fields.Count; field++)
        {
            string arg = fields[field];
            string? value = null;
            bool braces = false;
            int argLength = arg.Length;
            if (inOptions)
            {
                if (arg[0] != '-' || arg == "--")
                {
                    inOptions = false;
                    braces = arg.Any(char.IsWhiteSpace);
                }
                else if (arg == "-o" && field + 1 < fields.Count)
                {
                    value = fields[field + 1];
                    if (value.IndexOf('=') is > 0 and var equals)
                    {
                        value = $"{value[..equals].Trim()}={value[(equals + 1)..].Trim()}";
                    }
                    // An option with a value starts a line of its own when folding.
                    length = LineLimit;
                    braces = value.Any(char.IsWhiteSpace);
                    argLength += value.Length + 3 + (braces ? 2 : 0);
                }
            }
            else
            {
                braces = arg.Any(char.IsWhiteSpace);
            }
            if (length > Indent.Length)
            {
                if (!fold || length + 1 + argLength < LineLimit)
                {
                    Add(" ");
                }
                else
                {
                    line.Append('\n').Append(Indent);
                    length = Indent.Length;
                }
            }
            Add(!inOptions && braces ? $"{{{arg}}}" : arg);
            if (value is not null)
            {
                Add(braces ? $" {{{value}}}" : $" {value}");
                field++;
                length = LineLimit;
            }
        }
        return line.ToString();
    }
}
