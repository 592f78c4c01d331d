using Edge.Tests.Support;

namespace Edge.Tests.Load;

/// <summary>
/// The edge program with the native edge-source beside it, as a published build has them: src/Edge.Source published once
/// a test run, next to a copy of the edge build the tests use (the tests' own directory must not have it: there edge
/// source runs itself). Only for tests that run alone (MachineWideCollection): the native build keeps both cores busy.
/// </summary>
internal static class NativeSource
{
    private static readonly Lazy<Task<string>> s_edgeDll = new(PublishAsync);

    /// <summary>edge.dll of that directory.</summary>
    public static Task<string> EdgeDllAsync() => s_edgeDll.Value;

    /// <summary>An edge subcommand of that build, run to its end: its exit code, standard output and standard error.</summary>
    public static async Task<(int Exit, string Out, string Error)> RunAsync(params string[] args)
    {
        using var directory = new TempDirectory();
        return await EdgeProcess.RunBuildAsync(await EdgeDllAsync(), directory.Path, args);
    }

    private static async Task<string> PublishAsync()
    {
        string directory = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "with-native-source"));
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
        Copy(new DirectoryInfo(AppContext.BaseDirectory), directory);
        // No build servers left running after the tests.
        (int exit, string output) = await Peer.RunAsync("dotnet", TimeSpan.FromMinutes(5), ["publish",
            Path.Combine(Repository.Root, "src", "Edge.Source", "Edge.Source.csproj"), "-c", "Release", "-o", directory,
            "--nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false"]);
        if (exit != 0 || !File.Exists(Path.Combine(directory, Cli.SourceCommand.NativeProgram)))
        {
            throw new InvalidOperationException($"dotnet publish src/Edge.Source failed ({exit}):\n{output}");
        }
        return Path.Combine(directory, "edge.dll");
    }

    private static void Copy(DirectoryInfo from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (FileInfo file in from.GetFiles())
        {
            file.CopyTo(Path.Combine(to, file.Name));
        }
        // Not the files tests keep for people to look at (the queue page's screenshot), which a test may be writing.
        foreach (DirectoryInfo directory in from.GetDirectories().Where(directory => directory.Name != "artifacts"))
        {
            Copy(directory, Path.Combine(to, directory.Name));
        }
    }
}
