namespace Edge.Config;

/// <summary>Edge's built-in main.cf and master.cf (Config/Defaults/*.cf, embedded by the project file): the configuration when no directory is given.</summary>
static class EmbeddedDefaults
{
    public const string MainCfName = "built-in main.cf";
    public const string MasterCfName = "built-in master.cf";

    public static string Read(string resource)
    {
        using var stream = typeof(EmbeddedDefaults).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"the embedded resource {resource} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
