using System.Globalization;

namespace Edge.Load;

/// <summary>
/// The command line of <c>edge source</c> and <c>edge sink</c>: options that take a value (the last one given counts,
/// or every one for those that may be repeated), switches, and the one HOST:PORT. A mistake is a FormatException that
/// names the option.
/// </summary>
internal sealed class LoadArguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _switches = new(StringComparer.Ordinal);

    public string Host { get; private set; } = "";

    public int Port { get; private set; }

    /// <param name="valued">The options that take a value, by their long names.</param>
    /// <param name="switches">The options that take none.</param>
    /// <param name="longName">The long name of a short option ("-s" → "--sessions"); other options as they are.</param>
    /// <param name="listens">HOST:PORT is where to listen, where port 0 lets the system choose one.</param>
    public static LoadArguments Parse(IReadOnlyList<string> args, string[] valued, string[] switches, Func<string, string> longName, string usage,
        bool listens = false)
    {
        var parsed = new LoadArguments();
        string? target = null;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = longName(arg);
            if (valued.Contains(name))
            {
                parsed.Add(name, i + 1 < args.Count ? args[++i] : throw new FormatException($"option {arg} requires an argument"));
            }
            else if (switches.Contains(name))
            {
                parsed._switches.Add(name);
            }
            else if (arg.StartsWith('-') || target is not null)
            {
                throw new FormatException($"unexpected \"{arg}\"\n{usage}");
            }
            else
            {
                target = arg;
            }
        }
        if (target is null || !TryParseTarget(target, out string host, out int port) || (port == 0 && !listens))
        {
            throw new FormatException($"{(target is null ? "no HOST:PORT" : $"\"{target}\" is not HOST:PORT")}\n{usage}");
        }
        parsed.Host = host;
        parsed.Port = port;
        return parsed;
    }

    /// <summary>HOST:PORT as an endpoint: an address as it is, a name looked up (its first address).</summary>
    public static async Task<System.Net.IPEndPoint> EndpointAsync(string host, int port, CancellationToken cancellationToken) =>
        new(System.Net.IPAddress.TryParse(host, out System.Net.IPAddress? address) ? address
            : (await System.Net.Dns.GetHostAddressesAsync(host, cancellationToken)).FirstOrDefault()
              ?? throw new IOException($"{host}: no address"), port);

    /// <summary>What <paramref name="parse"/> makes of a command line; null with the mistake it found in <paramref name="error"/>.</summary>
    public static T? Try<T>(Func<T> parse, out string? error) where T : class
    {
        error = null;
        try
        {
            return parse();
        }
        catch (FormatException e)
        {
            error = e.Message;
            return null;
        }
    }

    /// <summary>Adds a value as if it were given on the command line (before it: the command line's own come later and win).</summary>
    public void Add(string name, string value)
    {
        if (!_values.TryGetValue(name, out List<string>? list))
        {
            _values[name] = list = [];
        }
        list.Add(value);
    }

    public void Switch(string name) => _switches.Add(name);

    /// <summary>The last value given for <paramref name="name"/>, or null.</summary>
    public string? Value(string name) => _values.TryGetValue(name, out List<string>? list) ? list[^1] : null;

    /// <summary>Every value given for <paramref name="name"/>, in order.</summary>
    public IReadOnlyList<string> Values(string name) => _values.TryGetValue(name, out List<string>? list) ? list : [];

    public bool Has(string name) => _switches.Contains(name);

    public static long Number(string? text, string option, long otherwise, long min, long max) =>
        text is null ? otherwise
        : long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value >= min && value <= max ? value
        : throw new FormatException($"{option}: \"{text}\" is not a number from {min} to {max}");

    /// <summary>A positive number of seconds, fractions allowed ("0.25").</summary>
    public static TimeSpan Seconds(string text, string option, double max = 86_400) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0 && seconds <= max
            ? TimeSpan.FromSeconds(seconds)
            : throw new FormatException($"{option}: \"{text}\" is not a number of seconds from 0 to {max}");

    /// <summary>A fraction from 0 to 1 ("0.3"), or a percentage ("30%").</summary>
    public static double Fraction(string text, string option)
    {
        bool percent = text.EndsWith('%');
        return double.TryParse(percent ? text[..^1] : text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
               && (percent ? value / 100 : value) is >= 0 and <= 1 and var fraction
            ? fraction
            : throw new FormatException($"{option}: \"{text}\" is not a fraction from 0 to 1 (or a percentage)");
    }

    private static bool TryParseTarget(string text, out string host, out int port)
    {
        int colon = text.LastIndexOf(':');
        host = colon > 0 ? text[..colon].Trim('[', ']') : "";
        port = 0;
        return colon > 0 && int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) && port is >= 0 and < 65536;
    }
}
