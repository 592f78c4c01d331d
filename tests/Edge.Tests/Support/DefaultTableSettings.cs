using Edge.Config;
using Edge.Tables.Remote;

namespace Edge.Tests.Support;

/// <summary>The remote table settings of Edge's built-in configuration, for tests that open tables themselves.</summary>
internal static class DefaultTableSettings
{
    public static RemoteTableSettings Value { get; } = RemoteTableSettings.From(MainConfig.Load(null));
}
