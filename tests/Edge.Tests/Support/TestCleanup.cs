using Edge.Cleanup;
using Edge.Config;
using Edge.Hosting;

namespace Edge.Tests.Support;

/// <summary>Cleanup as the embedded default configuration sets it up for Edge's own mail.</summary>
internal static class TestCleanup
{
    public static CleanupSettings Settings { get; } = Create();

    private static CleanupSettings Create()
    {
        MainConfig config = MainConfig.Load(null);
        return CleanupSettings.From(config, SmtpdSettingsFactory.Classifier(config), new HashSet<string>(), internalMail: true);
    }
}
