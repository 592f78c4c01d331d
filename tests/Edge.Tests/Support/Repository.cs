namespace Edge.Tests.Support;

/// <summary>The repository the tests were built from, for tests that read its sources.</summary>
internal static class Repository
{
    /// <summary>The repository's top directory (found by Edge.sln above the test assembly).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>src/Edge of the repository.</summary>
    public static string Source { get; } = Path.Combine(Root, "src", "Edge");

    /// <summary>The C# files of src/Edge, build output left out.</summary>
    public static IEnumerable<string> SourceFiles => Directory.GetFiles(Source, "*.cs", SearchOption.AllDirectories)
        .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                    && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Edge.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("the repository (Edge.sln) is not above the test assembly");
    }
}
