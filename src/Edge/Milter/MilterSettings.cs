using Edge.Config;

namespace Edge.Milter;

/// <summary>
/// The filters of one kind of mail (smtpd_milters for a listener, non_smtpd_milters for Edge's own) with the macros
/// each event carries (milter_*_macros) and the values of the macros that do not change per message.
/// </summary>
internal sealed class MilterSettings
{
    public required IReadOnlyList<MilterDefinition> Milters { get; init; }

    /// <summary>The macro names sent with each stage, indexed by the SMFIM_* stage number (and <see cref="MilterProtocol.StageUnknown"/>).</summary>
    public required string[][] Macros { get; init; }

    /// <summary>milter_macro_daemon_name ({daemon_name}), myhostname (j) and "mail_name mail_version" (v).</summary>
    public required string DaemonName { get; init; }
    public required string MyHostname { get; init; }
    public required string Version { get; init; }

    /// <summary>The filters <paramref name="parameter"/> names, or null when it names none.</summary>
    public static MilterSettings? From(MainConfig config, string parameter)
    {
        IReadOnlyList<MilterDefinition> milters = MilterDefinition.ParseList(config, parameter);
        if (milters.Count == 0)
        {
            return null;
        }
        string[] Names(string name) => [.. config.GetList(name)];
        return new MilterSettings
        {
            Milters = milters,
            Macros =
            [
                Names("milter_connect_macros"), Names("milter_helo_macros"), Names("milter_mail_macros"),
                Names("milter_rcpt_macros"), Names("milter_data_macros"), Names("milter_end_of_data_macros"),
                Names("milter_end_of_header_macros"), Names("milter_unknown_command_macros"),
            ],
            DaemonName = config.Get("milter_macro_daemon_name"),
            MyHostname = config.Get("myhostname"),
            Version = config.Get("milter_macro_v"),
        };
    }
}
