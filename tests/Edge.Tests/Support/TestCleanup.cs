using Edge.Cleanup;
using Edge.Config;
using Edge.Hosting;

namespace Edge.Tests.Support;

/// <summary>Cleanup as the embedded default configuration sets it up for Edge's own mail.</summary>
internal static class TestCleanup
{
    public static InternalMail Internal { get; } = Create();

    private static InternalMail Create()
    {
        MainConfig config = MainConfig.Load(null);
        return InternalMailKinds.From(config, SmtpdSettingsFactory.Classifier(config)).Forwarded;
    }
}
