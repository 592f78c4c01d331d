using Edge.Config;

namespace Edge.Cli;

/// <summary>
/// <c>edge postconf [-c DIR] [-d | -n] [-h] [-x] [name ...]</c>: prints main.cf parameters as Postfix's
/// postconf does, so an administrator can compare the two. Values are printed as written unless -x
/// asks for $name expansion. For the parameters -n prints or the command names, a note on standard error says
/// which ones Edge does not implement yet or has no use for. <c>-e name=value ...</c>, <c>-X name ...</c> and
/// <c>-# name ...</c> edit main.cf (PostconfEdit); <c>-m</c>, <c>-a</c> and <c>-l</c> list the lookup table types,
/// SASL server types and mailbox locks Edge has; <c>-M [-f] [service[/type] ...]</c> prints master.cf (PostconfMaster).
/// </summary>
public static class PostconfCommand
{
    const string Usage = "usage: edge postconf [-c config_dir] [-d | -n] [-h] [-x] [name ...] | -e name=value ... | -X name ... | -# name ... | -m | -a | -l | -M [-f] [service[/type] ...]";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? configDir = null;
        bool defaults = false, nonDefault = false, valuesOnly = false, expand = false, master = false, fold = false;
        PostconfEdit.Mode? edit = null;
        string[]? listing = null;
        var names = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg.Length < 2 || arg[0] != '-' || names.Count > 0)
            {
                names.Add(arg);
                continue;
            }
            // Flags combine as in getopt: -nx, -cDIR.
            for (var j = 1; j < arg.Length; j++)
            {
                switch (arg[j])
                {
                    case 'c':
                        configDir = j + 1 < arg.Length ? arg[(j + 1)..] : ++i < args.Length ? args[i] : null;
                        if (configDir is null)
                            return Fatal(stderr, Usage);
                        j = arg.Length;
                        break;
                    case 'd':
                        defaults = true;
                        break;
                    case 'n':
                        nonDefault = true;
                        break;
                    case 'h':
                        valuesOnly = true;
                        break;
                    case 'x':
                        expand = true;
                        break;
                    case 'e':
                        edit = PostconfEdit.Mode.Edit;
                        break;
                    case 'X':
                        edit = PostconfEdit.Mode.Remove;
                        break;
                    case '#':
                        edit = PostconfEdit.Mode.CommentOut;
                        break;
                    case 'm':
                        listing = Tables.TableFactory.Types;
                        break;
                    case 'M':
                        master = true;
                        break;
                    case 'f':
                        fold = true;
                        break;
                    case 'a':
                        // Dovecot's auth socket is Edge's one SASL server (Cyrus is refused).
                        listing = ["dovecot"];
                        break;
                    case 'l':
                        // What local and virtual delivery lock an mbox with.
                        listing = ["flock"];
                        break;
                    default:
                        return Fatal(stderr, Usage);
                }
            }
        }
        if (defaults && nonDefault)
            return Fatal(stderr, "specify one of -d -n");
        if (master)
        {
            try
            {
                return PostconfMaster.Run(configDir, fold, names, stdout, stderr);
            }
            catch (ConfigException e)
            {
                return Fatal(stderr, e.Message);
            }
        }
        if (listing is not null)
        {
            foreach (string item in listing)
                stdout.WriteLine(item);
            return 0;
        }
        if (edit is { } mode)
        {
            if (configDir is null)
                return Fatal(stderr, "-e, -X and -# edit DIR/main.cf: name the configuration directory with -c (without one, Edge runs on its built-in configuration)");
            if (names.Count == 0)
                return Fatal(stderr, Usage);
            return PostconfEdit.Run(configDir, names, mode, stderr);
        }

        try
        {
            var config = MainConfig.Load(configDir, warning => stderr.WriteLine($"postconf: warning: {warning}"));
            // -d shows, and with -x expands, the defaults as they are with nothing set.
            var source = defaults ? config.DefaultsOnly() : config;
            var selected = (defaults ? config.Defaults() : nonDefault ? config.NonDefault() : config.All())
                .ToDictionary(p => p.Name, p => p.RawValue, StringComparer.Ordinal);

            IEnumerable<string> wanted = names.Count > 0 ? names : selected.Keys.Order(StringComparer.Ordinal);
            foreach (var name in wanted)
            {
                if (!selected.TryGetValue(name, out var raw))
                {
                    // Like Postfix, a known parameter that -n does not select prints nothing; a name that
                    // is neither built in nor used by a value is unknown, even if main.cf sets it.
                    if (config.DefinitionOf(name) is null && !config.NonDefault().Any(p => p.Name == name))
                        stderr.WriteLine($"postconf: warning: {name}: unknown parameter");
                    continue;
                }
                var value = expand ? source.Get(name) : raw;
                stdout.WriteLine(valuesOnly ? value : value.Length == 0 ? $"{name} =" : $"{name} = {value}");
                if ((nonDefault || names.Count > 0) && Note(config.DefinitionOf(name)) is { } note)
                    stderr.WriteLine($"postconf: note: {name}: {note}");
            }
            return 0;
        }
        catch (ConfigException e)
        {
            return Fatal(stderr, e.Message);
        }
    }

    static string? Note(ParameterDefinition? definition) => definition?.Support switch
    {
        ParameterSupport.Refused => "not implemented by Edge yet: a value other than the default stops start-up (edge_unimplemented_parameters)",
        ParameterSupport.Warned => "not implemented by Edge yet: a value other than the default has no effect, and start-up says so",
        ParameterSupport.Meaningless => "no meaning in Edge, which runs as one process: accepted and ignored",
        _ => null,
    };

    static int Fatal(TextWriter stderr, string message)
    {
        stderr.WriteLine($"postconf: fatal: {message}");
        return 1;
    }
}
