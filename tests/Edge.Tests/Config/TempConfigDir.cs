namespace Edge.Tests.Config;

/// <summary>A fresh directory for a test's main.cf and master.cf, deleted afterwards.</summary>
sealed class TempConfigDir : IDisposable
{
    public TempConfigDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "edge-config-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string MainCf => System.IO.Path.Combine(Path, "main.cf");

    public string MasterCf => System.IO.Path.Combine(Path, "master.cf");

    public TempConfigDir WithMain(string text)
    {
        File.WriteAllText(MainCf, text);
        return this;
    }

    public TempConfigDir WithMaster(string text)
    {
        File.WriteAllText(MasterCf, text);
        return this;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
