using System.Globalization;
using System.Net;

namespace Edge.Dns;

/// <summary>
/// The parts of resolv.conf(5) a stub resolver uses, read as glibc reads them: up to three "nameserver"
/// lines (port 53), and "options timeout:N attempts:N" (defaults 5 and 2, capped at 30 and 5). Comments
/// start with '#' or ';'; an unreadable file or no usable nameserver means 127.0.0.1, as with glibc.
/// </summary>
internal sealed record ResolvConf(IReadOnlyList<IPEndPoint> Servers, TimeSpan Timeout, int Attempts)
{
    public const int MaxServers = 3;          // glibc's MAXNS
    public const int DefaultTimeout = 5;      // RES_TIMEOUT
    public const int MaxTimeout = 30;         // RES_MAXRETRANS
    public const int DefaultAttempts = 2;     // RES_DFLRETRY
    public const int MaxAttempts = 5;         // RES_MAXRETRY

    public static ResolvConf Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            text = "";
        }
        return Parse(text);
    }

    public static ResolvConf Parse(string text)
    {
        var servers = new List<IPEndPoint>();
        int timeout = DefaultTimeout;
        int attempts = DefaultAttempts;
        foreach (string rawLine in text.Split('\n'))
        {
            string[] words = rawLine.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || words[0][0] is '#' or ';')
            {
                continue;
            }
            if (words[0] == "nameserver")
            {
                if (servers.Count < MaxServers && IPAddress.TryParse(words[1], out IPAddress? address))
                {
                    servers.Add(new IPEndPoint(address, 53));
                }
            }
            else if (words[0] == "options")
            {
                foreach (string option in words.Skip(1))
                {
                    if (TryOption(option, "timeout:", out int value))
                    {
                        timeout = Math.Clamp(value, 1, MaxTimeout);
                    }
                    else if (TryOption(option, "attempts:", out value))
                    {
                        attempts = Math.Clamp(value, 1, MaxAttempts);
                    }
                }
            }
        }
        if (servers.Count == 0)
        {
            servers.Add(new IPEndPoint(IPAddress.Loopback, 53));
        }
        return new ResolvConf(servers, TimeSpan.FromSeconds(timeout), attempts);
    }

    private static bool TryOption(string option, string prefix, out int value)
    {
        value = 0;
        return option.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(option.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
