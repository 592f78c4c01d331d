using System.Globalization;
using System.Net;
using Edge.Net;

namespace Edge.Load;

/// <summary>What <c>edge source</c> sends, and how (smtp-source's choices, with long names; its short ones work too).</summary>
internal sealed record SourceOptions
{
    public const string Usage = """
        usage: edge source [options] HOST:PORT
          -s, --sessions N        sessions at once (1)
          -m, --messages N        messages in all (1; with --duration, no limit unless given)
              --per-session N     messages per connection (1)
              --duration SECONDS  stop sending after this long
              --rate N            messages per second in all (as fast as possible)
          -l, --size BYTES        message size (0: headers only)
              --messages-from DIR sample messages, sent in turn instead of generated ones
          -f, --from ADDRESS      sender (source@example.com)
          -t, --to ADDRESS        recipient; {n} is the message's number, {r} the recipient's (recipient@example.com)
          -r, --recipients N      recipients per message (1)
              --helo NAME         EHLO name (source.example)
              --pipelining        send MAIL, RCPT and DATA (or BDAT) together when the server offers PIPELINING
              --bdat              send content with BDAT when the server offers CHUNKING
              --starttls          STARTTLS when offered (the server's certificate is not checked)
              --proxy 1|2         a PROXY protocol header first, from an address of --proxy-from
              --proxy-from CIDR   the client addresses PROXY headers give, one per session in turn (192.0.2.0/24)
              --timeout SECONDS   longest wait for a reply (60)
              --threads N         threads that run the sessions (1, as smtp-source's one process: the other cores are
                                  left to a server under test on this machine; more for a server on another one)
              --json              the report as JSON
        """;

    public required string Host { get; init; }
    public required int Port { get; init; }
    public int Sessions { get; init; } = 1;
    public long? Messages { get; init; }
    public int PerSession { get; init; } = 1;
    public TimeSpan? Duration { get; init; }
    public double Rate { get; init; }
    public int Size { get; init; }
    public string? SampleDirectory { get; init; }
    public string From { get; init; } = "source@example.com";
    public string To { get; init; } = "recipient@example.com";
    public int Recipients { get; init; } = 1;
    public string Helo { get; init; } = "source.example";
    public bool Pipelining { get; init; }
    public bool Bdat { get; init; }
    public bool StartTls { get; init; }
    public int ProxyVersion { get; init; }
    public Network ProxyFrom { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);
    public int Threads { get; init; } = 1;
    public bool Json { get; init; }

    /// <summary>How many messages the run sends: --messages, else 1, or no limit when only a duration ends it.</summary>
    public long MessageLimit => Messages ?? (Duration is null ? 1 : long.MaxValue);

    private static readonly string[] Valued =
        ["--sessions", "--messages", "--per-session", "--duration", "--rate", "--size", "--messages-from", "--from", "--to", "--recipients",
         "--helo", "--proxy", "--proxy-from", "--timeout", "--threads"];

    private static readonly string[] Switches = ["--pipelining", "--bdat", "--starttls", "--json"];

    /// <summary>The options <paramref name="args"/> give; null with <paramref name="error"/> saying why (an option Edge does not know, a bad number, no HOST:PORT).</summary>
    public static SourceOptions? Parse(IReadOnlyList<string> args, out string? error) => LoadArguments.Try(() => Parse(args), out error);

    private static SourceOptions Parse(IReadOnlyList<string> args)
    {
        LoadArguments line = LoadArguments.Parse(args, Valued, Switches, Long, Usage);
        string? Value(string name) => line.Value(name);
        int proxy = (int)LoadArguments.Number(Value("--proxy"), "--proxy", 0, 1, 2);
        string proxyFrom = Value("--proxy-from") ?? "192.0.2.0/24";
        return new SourceOptions
        {
            Host = line.Host,
            Port = line.Port,
            Sessions = (int)LoadArguments.Number(Value("--sessions"), "--sessions", 1, 1, 100_000),
            Messages = Value("--messages") is { } messages ? LoadArguments.Number(messages, "--messages", 1, 1, long.MaxValue) : null,
            PerSession = (int)LoadArguments.Number(Value("--per-session"), "--per-session", 1, 1, int.MaxValue),
            Duration = Value("--duration") is { } duration ? TimeSpan.FromSeconds(LoadArguments.Number(duration, "--duration", 1, 1, 86_400 * 365)) : null,
            Rate = Value("--rate") is { } rate ? PerSecond(rate) : 0,
            Size = (int)LoadArguments.Number(Value("--size"), "--size", 0, 0, 1 << 30),
            SampleDirectory = Value("--messages-from"),
            From = Value("--from") ?? "source@example.com",
            To = Value("--to") ?? "recipient@example.com",
            Recipients = (int)LoadArguments.Number(Value("--recipients"), "--recipients", 1, 1, 10_000),
            Helo = Value("--helo") ?? "source.example",
            Pipelining = line.Has("--pipelining"),
            Bdat = line.Has("--bdat"),
            StartTls = line.Has("--starttls"),
            ProxyVersion = proxy,
            ProxyFrom = Network.TryParse(proxyFrom, out Network network) ? network
                : throw new FormatException($"--proxy-from: \"{proxyFrom}\" is not an address or network/bits"),
            Timeout = TimeSpan.FromSeconds(LoadArguments.Number(Value("--timeout"), "--timeout", 60, 1, 3600)),
            Threads = (int)LoadArguments.Number(Value("--threads"), "--threads", 1, 1, 1024),
            Json = line.Has("--json"),
        };
    }

    private static string Long(string option) => option switch
    {
        "-s" => "--sessions",
        "-m" => "--messages",
        "-l" => "--size",
        "-f" => "--from",
        "-t" => "--to",
        "-r" => "--recipients",
        _ => option,
    };

    private static double PerSecond(string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) && rate > 0 && double.IsFinite(rate) ? rate
        : throw new FormatException($"--rate: \"{text}\" is not a positive number");

    /// <summary>The client address the PROXY header of session <paramref name="session"/> gives: the network's addresses in turn.</summary>
    public IPAddress ProxyClient(long session) => ProxyFrom.Nth(session);
}
