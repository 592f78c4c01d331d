namespace Edge.Cli;

/// <summary>This program run again: by its own executable, or, run as "dotnet edge.dll", by the host with the assembly.</summary>
internal static class SelfCommand
{
    /// <summary>The program, and the arguments before a command's own, that run this program again.</summary>
    public static IEnumerable<string> Invocation()
    {
        string program = Environment.ProcessPath!;
        yield return program;
        if (Path.GetFileNameWithoutExtension(program) == "dotnet")
        {
            yield return Environment.GetCommandLineArgs()[0];
        }
    }
}
