namespace Edge.Config;

/// <summary>Reads master.cf syntax as master(5) defines it.</summary>
public static class MasterCfParser
{
    /// <summary>Postfix's built-in default_process_limit, used for "-" when main.cf is not at hand.</summary>
    public const int DefaultProcessLimit = 100;

    /// <summary>
    /// Parses service lines <c>service type private unpriv chroot wakeup maxproc command [args...]</c>,
    /// with continuation lines, comments, "-" for a column's default, and <c>-o name=value</c> or
    /// <c>-o { name = value }</c> overrides among the leading options of the command.
    /// </summary>
    public static IReadOnlyList<MasterService> Parse(string text, string file, int defaultProcessLimit = DefaultProcessLimit)
    {
        var services = new List<MasterService>();
        foreach (var line in LogicalLineReader.Read(text, file))
        {
            var service = ParseLine(line, file, defaultProcessLimit);
            if (services.Find(s => s.Name == service.Name && s.Type == service.Type) is { } first)
                throw new ConfigException(file, line.Line, null, $"duplicate service {service.Name}/{TypeName(service.Type)} (first at line {first.Line})");
            services.Add(service);
        }
        return services;
    }

    /// <summary>Each service line's fields as written ("-" kept, <c>{ ... }</c> groups unwrapped), for postconf -M.</summary>
    public static IEnumerable<IReadOnlyList<string>> Fields(string text, string file)
    {
        foreach (var line in LogicalLineReader.Read(text, file))
            yield return Tokenize(line.Text) ?? throw new ConfigException(file, line.Line, null, $"missing '}}' in \"{line.Text}\"");
    }

    static MasterService ParseLine(LogicalLine line, string file, int defaultProcessLimit)
    {
        ConfigException Bad(string reason) => new(file, line.Line, null, reason);

        var fields = Tokenize(line.Text) ?? throw Bad($"missing '}}' in \"{line.Text}\"");
        if (fields.Count < 8)
            throw Bad("bad field count");
        var (name, typeText) = (fields[0], fields[1]);
        var type = typeText switch
        {
            "inet" => MasterServiceType.Inet,
            "unix" => MasterServiceType.Unix,
            "unix-dgram" => MasterServiceType.UnixDgram,
            "fifo" => MasterServiceType.Fifo,
            "pass" => MasterServiceType.Pass,
            _ => throw Bad($"invalid type field \"{typeText}\""),
        };
        var isPrivate = YesNo(fields[2], "private", defaultValue: true);
        var unprivileged = YesNo(fields[3], "unprivileged", defaultValue: true);
        // Postfix 3.0 and later default chroot to n.
        var chroot = YesNo(fields[4], "chroot", defaultValue: false);
        // "60?" wakes up only when the service is used; Edge ignores wake-ups either way.
        var wakeupText = fields[5].TrimEnd('?');
        var wakeup = fields[5] == "-" ? 0
            : ValueSyntax.TryParseLong(wakeupText, out var w) && w <= int.MaxValue ? (int)w
            : throw Bad($"invalid wakeup field \"{fields[5]}\"");
        var maxProc = fields[6] == "-" ? defaultProcessLimit
            : ValueSyntax.TryParseLong(fields[6], out var m) && m <= int.MaxValue ? (int)m
            : throw Bad($"invalid process_limit field \"{fields[6]}\"");

        var (args, overrides) = SplitOptions(fields.Skip(8).ToList(), Bad);
        ListenEndpoint? endpoint = null;
        if (type == MasterServiceType.Inet)
        {
            endpoint = (ListenEndpoint.Parse(name, out var error) ?? throw Bad($"bad inet service name \"{name}\": {error}"))
                with { File = file, Line = line.Line };
        }

        return new MasterService(name, type, isPrivate, unprivileged, chroot, wakeup, maxProc, fields[7], args, overrides, file, line.Line)
        {
            Endpoint = endpoint,
        };

        bool YesNo(string value, string column, bool defaultValue) => value switch
        {
            "-" => defaultValue,
            "y" => true,
            "n" => false,
            _ => throw Bad($"invalid {column} field \"{value}\""),
        };
    }

    // The leading options of the command, as a Postfix daemon's getopt sees them: "-o" options become
    // overrides, other options stay arguments, and the first non-option ends the options (so "-o" in a
    // pipe command's argv= belongs to that command).
    static (List<string> Args, List<KeyValuePair<string, string>> Overrides) SplitOptions(
        List<string> tokens, Func<string, ConfigException> bad)
    {
        var args = new List<string>();
        var overrides = new List<KeyValuePair<string, string>>();
        var i = 0;
        for (; i < tokens.Count && tokens[i].StartsWith('-') && tokens[i] != "--"; i++)
        {
            if (!tokens[i].StartsWith("-o", StringComparison.Ordinal))
            {
                args.Add(tokens[i]);
                continue;
            }
            var setting = tokens[i].Length > 2 ? tokens[i][2..]
                : ++i < tokens.Count ? tokens[i]
                : throw bad("-o without name=value");
            var equals = setting.IndexOf('=');
            if (equals < 0)
                throw bad($"-o {setting}: missing '=' after attribute name");
            var name = setting[..equals].Trim();
            if (name.Length == 0)
                throw bad($"-o {setting}: missing attribute name");
            overrides.Add(new(name, setting[(equals + 1)..].Trim()));
        }
        args.AddRange(tokens.Skip(i));
        return (args, overrides);
    }

    // Splits on white space; "{ text }" is one token without its braces (Postfix 3.0), which keeps
    // white space inside an argument or a -o value. Null when a '{' is not closed.
    static List<string>? Tokenize(string text)
    {
        var tokens = new List<string>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
                i++;
            if (i == text.Length)
                return tokens;
            var start = i;
            if (text[i] == '{')
            {
                var depth = 0;
                for (; i < text.Length; i++)
                {
                    if (text[i] == '{')
                        depth++;
                    else if (text[i] == '}' && --depth == 0)
                        break;
                }
                if (i == text.Length)
                    return null;
                tokens.Add(text[(start + 1)..i].Trim());
                i++;
                continue;
            }
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
                i++;
            tokens.Add(text[start..i]);
        }
    }

    static string TypeName(MasterServiceType type) => type == MasterServiceType.UnixDgram ? "unix-dgram" : type.ToString().ToLowerInvariant();
}
