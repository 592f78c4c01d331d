namespace Edge.Config;

/// <summary>The services of master.cf: Edge's listeners and delivery transports, and the lines it notes.</summary>
public sealed class MasterConfig
{
    MasterConfig(string file, IReadOnlyList<MasterService> services)
    {
        File = file;
        Services = services;
        Listeners = services.Where(s => s.Role == MasterServiceRole.Listener).ToList();
        Transports = services.Where(s => s.Role == MasterServiceRole.Transport).ToList();
    }

    /// <summary>The master.cf file, or the name of the built-in one.</summary>
    public string File { get; }

    /// <summary>Every service line, in file order.</summary>
    public IReadOnlyList<MasterService> Services { get; }

    /// <summary>The inet services whose command is smtpd or postscreen, each with its <see cref="MasterService.Endpoint"/>.</summary>
    public IReadOnlyList<MasterService> Listeners { get; }

    /// <summary>The pass services whose command is smtpd: the servers behind postscreen, by service name.</summary>
    public IEnumerable<MasterService> Screened => Services.Where(s => s.Role == MasterServiceRole.Screened);

    /// <summary>The unix services whose command is a delivery agent; the service name is the transport name.</summary>
    public IReadOnlyList<MasterService> Transports { get; }

    /// <summary>
    /// Loads <paramref name="configDir"/>/master.cf, or Edge's built-in master.cf when no directory is
    /// given. <paramref name="main"/> supplies default_process_limit for a "-" maxproc column.
    /// </summary>
    public static MasterConfig Load(string? configDir, MainConfig? main = null)
    {
        var limit = main?.GetInt("default_process_limit") ?? MasterCfParser.DefaultProcessLimit;
        if (configDir is null)
            return new MasterConfig(EmbeddedDefaults.MasterCfName, MasterCfParser.Parse(EmbeddedDefaults.Read("master.cf"), EmbeddedDefaults.MasterCfName, limit));
        var file = Path.Combine(configDir, "master.cf");
        return new MasterConfig(file, MasterCfParser.Parse(ConfigFile.Read(file), file, limit));
    }

    /// <summary>Type-checks every service's <c>-o</c> overrides against main.cf, reporting errors at their master.cf line.</summary>
    public void Validate(MainConfig main)
    {
        foreach (var service in Services.Where(s => s.Overrides.Count > 0))
            service.ConfigFrom(main).Validate();
    }

    /// <summary>
    /// The services that name per-service main.cf parameters (relay_destination_concurrency_limit …),
    /// as postconf reads them: from the directory's master.cf when there is one.
    /// </summary>
    internal static IReadOnlyList<MasterService> ServicesForParameterNames(string? configDir)
    {
        if (configDir is not null && !System.IO.File.Exists(Path.Combine(configDir, "master.cf")))
            return [];
        return Load(configDir).Services;
    }
}
