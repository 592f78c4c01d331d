using Edge.Config;
using Edge.Tables;

namespace Edge.Tests.Support;

/// <summary>The remote table settings of Edge's built-in configuration, for tests that open tables themselves.</summary>
internal static class DefaultTableSettings
{
    public static TableSettings Value { get; } = TableSettings.From(MainConfig.Load(null));
}
