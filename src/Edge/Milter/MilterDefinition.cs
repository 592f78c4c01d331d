using System.Net;
using Edge.Config;
using Edge.Net;

namespace Edge.Milter;

/// <summary>What Edge does when a filter cannot be reached or misbehaves (milter_default_action).</summary>
internal enum MilterDefaultAction : byte
{
    Accept,
    Reject,
    Tempfail,
    Quarantine,
    Shutdown,
}

/// <summary>
/// One mail filter of smtpd_milters or non_smtpd_milters: its endpoint (inet:host:port or unix:/path) and the
/// settings a <c>{ endpoint, name=value … }</c> entry may override (connect_timeout, command_timeout,
/// content_timeout, default_action, protocol), as in Postfix's MILTER_README.
/// </summary>
internal sealed record MilterDefinition(
    string Name,
    EndPoint Endpoint,
    TimeSpan ConnectTimeout,
    TimeSpan CommandTimeout,
    TimeSpan ContentTimeout,
    MilterDefaultAction DefaultAction,
    int Version,
    uint Events)
{
    /// <summary>The filters <paramref name="parameter"/> lists, or start-up stops naming what is wrong.</summary>
    public static IReadOnlyList<MilterDefinition> ParseList(MainConfig config, string parameter)
    {
        var defaults = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["connect_timeout"] = config.Get("milter_connect_timeout"),
            ["command_timeout"] = config.Get("milter_command_timeout"),
            ["content_timeout"] = config.Get("milter_content_timeout"),
            ["default_action"] = config.Get("milter_default_action"),
            ["protocol"] = config.Get("milter_protocol"),
        };
        return [.. config.GetList(parameter).Select(entry => Parse(config, parameter, entry, defaults))];
    }

    private static MilterDefinition Parse(MainConfig config, string parameter, string entry, Dictionary<string, string> defaults)
    {
        var settings = new Dictionary<string, string>(defaults, StringComparer.Ordinal);
        string endpoint = entry;
        if (entry.StartsWith('{'))
        {
            List<string> parts = ValueSyntax.SplitList(entry.Trim().TrimStart('{').TrimEnd('}'), out string? error)
                ?? throw config.Error(parameter, error!);
            if (parts.Count == 0)
            {
                throw config.Error(parameter, $"empty milter entry \"{entry}\"");
            }
            endpoint = parts[0];
            foreach (string part in parts.Skip(1))
            {
                int equals = part.IndexOf('=');
                string key = equals < 0 ? part : part[..equals].Trim();
                if (equals < 0 || !defaults.ContainsKey(key))
                {
                    throw config.Error(parameter, $"unknown milter setting \"{part}\" in \"{entry}\" " +
                        "(connect_timeout, command_timeout, content_timeout, default_action or protocol)");
                }
                settings[key] = part[(equals + 1)..].Trim();
            }
        }
        // Postfix's milter8 wants transport:endpoint, the transport named.
        EndPoint address = endpoint.Split(':')[0] is "inet" or "unix" or "local"
            && ServiceEndpoint.Parse(endpoint, config.Get("queue_directory")) is { } parsed
            ? parsed : throw config.Error(parameter, $"bad milter endpoint \"{endpoint}\" (inet:host:port or unix:/path)");
        (int version, uint events) = Protocol(config, parameter, settings["protocol"]);
        return new MilterDefinition(endpoint, address,
            Time(config, parameter, "connect_timeout", settings), Time(config, parameter, "command_timeout", settings),
            Time(config, parameter, "content_timeout", settings), ParseDefaultAction(config, parameter, settings["default_action"]),
            version, events);
    }

    /// <summary>milter_protocol: a version (2, 3, 4 or 6) and optionally no_header_reply.</summary>
    private static (int Version, uint Events) Protocol(MainConfig config, string parameter, string value)
    {
        int version = 0;
        uint events = 0;
        foreach (string word in value.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            (int v, uint e) = word switch
            {
                "6" => (6, MilterProtocol.Version6Events),
                "4" => (4, MilterProtocol.Version4Events),
                "3" => (3, MilterProtocol.Version3Events),
                "2" => (2, MilterProtocol.Version2Events),
                "no_header_reply" => (0, MilterProtocol.NoReplyHeader),
                _ => throw config.Error(parameter, $"bad milter protocol information \"{word}\" (2, 3, 4, 6 or no_header_reply)"),
            };
            if (v != 0 && version != 0)
            {
                throw config.Error(parameter, $"milter protocol \"{value}\" names two versions");
            }
            version = v != 0 ? v : version;
            events |= e;
        }
        return version == 0 ? throw config.Error(parameter, $"milter protocol \"{value}\" names no version") : (version, events);
    }

    private static TimeSpan Time(MainConfig config, string parameter, string key, Dictionary<string, string> settings) =>
        ValueSyntax.TryParseTime(settings[key], 's', out TimeSpan value) && value > TimeSpan.Zero
            ? value : throw config.Error(parameter, $"bad milter {key} \"{settings[key]}\"");

    private static MilterDefaultAction ParseDefaultAction(MainConfig config, string parameter, string value) => value.ToLowerInvariant() switch
    {
        "accept" => MilterDefaultAction.Accept,
        "reject" => MilterDefaultAction.Reject,
        "tempfail" => MilterDefaultAction.Tempfail,
        "quarantine" => MilterDefaultAction.Quarantine,
        "shutdown" => MilterDefaultAction.Shutdown,
        _ => throw config.Error(parameter, $"bad milter default_action \"{value}\" (accept, reject, tempfail, quarantine or shutdown)"),
    };
}
