using System.Globalization;
using System.Text.RegularExpressions;

namespace Edge.Load;

/// <summary>The points of an SMTP transaction where <c>edge sink</c> can be told to wait, defer or refuse.</summary>
internal enum SinkStage
{
    Helo,
    Mail,
    Rcpt,
    Data,
    /// <summary>The end of the content: the reply to the final dot, or to BDAT LAST.</summary>
    Content,
}

/// <summary>A --rcpt rule: recipients the pattern matches get the reply.</summary>
internal sealed record RecipientRule(string Pattern, Regex Match, string Reply);

/// <summary>
/// How <c>edge sink</c> behaves: from its options, or from a --behaviour file of the same names, one "name = value" a
/// line (the command line's options come after the file's: a single-valued one given in both is the command line's,
/// the repeatable ones add up).
/// </summary>
internal sealed record SinkOptions
{
    public const string Usage = """
        usage: edge sink [options] [-c DIR] ADDRESS:PORT
          -c DIR                    main.cf for myhostname, message_size_limit, smtpd_tls_cert_file/key_file,
                                    smtpd_upstream_proxy_timeout, edge_metrics_listen and the policy script settings
              --behaviour FILE      the options below from a file, one "name = value" a line ("delay = rcpt=0.1")
              --keep DIR            write each accepted message to DIR, one file per message (as smtp-sink -d)
              --greeting-delay S    wait S seconds before the greeting
              --delay STAGE=S       wait S seconds before each reply at STAGE (helo, mail, rcpt, data, content)
              --defer STAGE=F       answer a fraction F (0.3 or 30%) of the commands at STAGE with 4xx
              --reject STAGE=F      answer a fraction F of the commands at STAGE with 5xx
              --rcpt PATTERN=REPLY  answer recipients PATTERN matches (a * ? wildcard, or /regex/) with REPLY ("550 5.1.1 No such user")
              --greylist S          answer 450 4.2.0 to a client address, sender and recipient until S seconds after they were
                                    first seen together (forgotten 10 minutes after that: a later retry is greylisted again)
              --disconnect F        drop the connection in the middle of the content of a fraction F of the messages
              --tls                 offer STARTTLS (smtpd_tls_cert_file of -c, or a certificate made at start)
              --tls-cert FILE       offer STARTTLS with this PEM certificate (and --tls-key FILE, unless the key is in it)
              --tls-key FILE
              --proxy               every connection starts with a PROXY v1 or v2 header naming the client
              --policy FILE         a JavaScript policy, as check_policy_script, asked at connect, helo, mail, rcpt, data and endOfData
              --no-pipelining       do not offer PIPELINING
              --no-chunking         do not offer CHUNKING (BDAT)
              --no-smtputf8         do not offer SMTPUTF8
              --hostname NAME       the name in the greeting (myhostname)
              --report S            print the summary every S seconds as well as at exit
              --json                the summary as JSON
        """;

    public required string Host { get; init; }
    public required int Port { get; init; }
    public string? ConfigDirectory { get; init; }
    public string? KeepDirectory { get; init; }
    public TimeSpan GreetingDelay { get; init; }
    public TimeSpan[] Delay { get; init; } = new TimeSpan[Stages];
    public double[] Defer { get; init; } = new double[Stages];
    public double[] Reject { get; init; } = new double[Stages];
    public IReadOnlyList<RecipientRule> RecipientRules { get; init; } = [];
    public TimeSpan? Greylist { get; init; }
    public double Disconnect { get; init; }
    public bool Tls { get; init; }
    public string? TlsCertificate { get; init; }
    public string? TlsKey { get; init; }
    public bool Proxy { get; init; }
    public string? Policy { get; init; }
    public bool Pipelining { get; init; } = true;
    public bool Chunking { get; init; } = true;
    public bool SmtpUtf8 { get; init; } = true;
    public string? Hostname { get; init; }
    public TimeSpan? ReportEvery { get; init; }
    public bool Json { get; init; }

    private static readonly int Stages = Enum.GetValues<SinkStage>().Length;

    private static readonly string[] Valued =
        ["-c", "--behaviour", "--keep", "--greeting-delay", "--delay", "--defer", "--reject", "--rcpt", "--greylist", "--disconnect", "--tls-cert",
         "--tls-key", "--policy", "--hostname", "--report"];

    private static readonly string[] Switches = ["--tls", "--proxy", "--no-pipelining", "--no-chunking", "--no-smtputf8", "--json"];

    /// <summary>The options <paramref name="args"/> give (with their --behaviour file's); null with <paramref name="error"/> saying what is wrong.</summary>
    public static SinkOptions? Parse(IReadOnlyList<string> args, out string? error) => LoadArguments.Try(() => Parse(args), out error);

    private static SinkOptions Parse(IReadOnlyList<string> args)
    {
        LoadArguments line = LoadArguments.Parse(args, Valued, Switches, option => option, Usage, listens: true);
        return Build(line.Value("--behaviour") is { } file ? WithFile(args, file) : line);
    }

    private static SinkOptions Build(LoadArguments line)
    {
        string? Value(string name) => line.Value(name);
        TimeSpan[] delay = new TimeSpan[Stages];
        foreach (string setting in line.Values("--delay"))
        {
            (SinkStage stage, string value) = StageSetting(setting, "--delay");
            delay[(int)stage] = LoadArguments.Seconds(value, "--delay");
        }
        return new SinkOptions
        {
            Host = line.Host,
            Port = line.Port,
            ConfigDirectory = Value("-c"),
            KeepDirectory = Value("--keep") is { } keep ? keep.Length > 0 ? keep : throw new FormatException("--keep: the directory is empty") : null,
            GreetingDelay = Value("--greeting-delay") is { } greeting ? LoadArguments.Seconds(greeting, "--greeting-delay") : TimeSpan.Zero,
            Delay = delay,
            Defer = Fractions(line.Values("--defer"), "--defer"),
            Reject = Fractions(line.Values("--reject"), "--reject"),
            RecipientRules = [.. line.Values("--rcpt").Select(RecipientRuleOf)],
            Greylist = Value("--greylist") is { } greylist ? LoadArguments.Seconds(greylist, "--greylist", 86_400 * 365) : null,
            Disconnect = Value("--disconnect") is { } disconnect ? LoadArguments.Fraction(disconnect, "--disconnect") : 0,
            Tls = line.Has("--tls") || Value("--tls-cert") is not null,
            TlsCertificate = Value("--tls-cert"),
            TlsKey = Value("--tls-key") is { } key && Value("--tls-cert") is null ? throw new FormatException("--tls-key needs --tls-cert") : Value("--tls-key"),
            Proxy = line.Has("--proxy"),
            Policy = Value("--policy"),
            Pipelining = !line.Has("--no-pipelining"),
            Chunking = !line.Has("--no-chunking"),
            SmtpUtf8 = !line.Has("--no-smtputf8"),
            Hostname = Value("--hostname") is { } hostname ? Uri.CheckHostName(hostname) == UriHostNameType.Dns ? hostname
                : throw new FormatException($"--hostname: \"{hostname}\" is not a host name") : null,
            ReportEvery = Value("--report") is { } every ? ReportInterval(every) : null,
            Json = line.Has("--json"),
        };
    }

    /// <summary>The --behaviour file's settings first, then the command line's again (which so come later and win).</summary>
    private static LoadArguments WithFile(IReadOnlyList<string> args, string file)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"--behaviour: cannot read {file}: {e.Message}");
        }
        var fromFile = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            string text = lines[i].Trim();
            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }
            int equals = text.IndexOf('=');
            string name = "--" + (equals < 0 ? text : text[..equals].TrimEnd());
            string value = equals < 0 ? "" : text[(equals + 1)..].Trim();
            string where = $"{file}, line {i + 1}";
            if (Switches.Contains(name))
            {
                if (value is "" or "yes")
                {
                    fromFile.Add(name);
                }
                else if (value != "no")
                {
                    throw new FormatException($"{where}: {name[2..]} is yes or no, not \"{value}\"");
                }
            }
            else if (Valued.Contains(name) && name != "--behaviour" && equals > 0)
            {
                try
                {
                    // Each setting is checked on its own, so that a bad value is named with its line (tls-key needs
                    // tls-cert, which may be on another line: the two are checked together below).
                    if (name != "--tls-key")
                    {
                        Build(LoadArguments.Parse([name, value, "127.0.0.1:0"], Valued, Switches, option => option, Usage, listens: true));
                    }
                }
                catch (FormatException e)
                {
                    throw new FormatException($"{where}: {e.Message}");
                }
                fromFile.Add(name);
                fromFile.Add(value);
            }
            else
            {
                throw new FormatException($"{where}: \"{text}\" is not one of edge sink's settings as \"name = value\"");
            }
        }
        return LoadArguments.Parse([.. fromFile, .. args], Valued, Switches, option => option, Usage, listens: true);
    }

    private static readonly Dictionary<string, SinkStage> StageNames = Enum.GetValues<SinkStage>()
        .ToDictionary(stage => stage.ToString().ToLowerInvariant(), StringComparer.OrdinalIgnoreCase);

    private static (SinkStage Stage, string Value) StageSetting(string setting, string option)
    {
        int equals = setting.IndexOf('=');
        return equals > 0 && StageNames.TryGetValue(setting[..equals], out SinkStage stage)
            ? (stage, setting[(equals + 1)..])
            : throw new FormatException($"{option}: \"{setting}\" is not STAGE=VALUE with STAGE one of helo, mail, rcpt, data, content");
    }

    private static double[] Fractions(IReadOnlyList<string> settings, string option)
    {
        double[] fractions = new double[Stages];
        foreach (string setting in settings)
        {
            (SinkStage stage, string value) = StageSetting(setting, option);
            fractions[(int)stage] = LoadArguments.Fraction(value, option);
        }
        return fractions;
    }

    private static TimeSpan ReportInterval(string text)
    {
        TimeSpan every = LoadArguments.Seconds(text, "--report");
        return every >= TimeSpan.FromSeconds(0.1) ? every : throw new FormatException($"--report: \"{text}\" is less than 0.1 seconds");
    }

    /// <summary>PATTERN=REPLY: a wildcard pattern (* any characters, ? one) or a /regular expression/, matched against the whole address without case.</summary>
    private static RecipientRule RecipientRuleOf(string setting)
    {
        int equals = setting.StartsWith('/') ? setting.IndexOf("/=", 1, StringComparison.Ordinal) + 1 : setting.IndexOf('=');
        if (equals <= 0)
        {
            throw new FormatException($"--rcpt: \"{setting}\" is not PATTERN=REPLY");
        }
        string pattern = setting[..equals];
        string reply = setting[(equals + 1)..].Trim();
        if (reply.Length < 3 || !int.TryParse(reply.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int code)
            || code is < 200 or > 599 || (reply.Length > 3 && reply[3] != ' '))
        {
            throw new FormatException($"--rcpt: \"{reply}\" is not a reply (a code from 200 to 599, then text: \"550 5.1.1 No such user\")");
        }
        string expression = pattern.Length > 2 && pattern[0] == '/' && pattern[^1] == '/'
            ? pattern[1..^1]
            : "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
        try
        {
            return new RecipientRule(pattern, new Regex(expression, RegexOptions.IgnoreCase | RegexOptions.NonBacktracking | RegexOptions.CultureInvariant), reply);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            // NotSupportedException: what the linear-time engine cannot do (lookarounds, backreferences).
            throw new FormatException($"--rcpt: \"{pattern}\" is not a regular expression the sink can use: {e.Message}");
        }
    }
}
