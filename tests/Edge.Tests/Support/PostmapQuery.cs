using System.Diagnostics;
using Edge.Cli;

namespace Edge.Tests.Support;

/// <summary>One "postmap -q KEY MAP" asked of Debian's postmap and of Edge's (run in the test's process), to compare.</summary>
public static class PostmapQuery
{
    public sealed record Answers(int PostfixExit, string PostfixOutput, string PostfixError, int EdgeExit, string EdgeOutput, string EdgeError)
    {
        public bool Agree => (PostfixExit, PostfixOutput) == (EdgeExit, EdgeOutput);

        public override string ToString() =>
            $"postfix {PostfixExit} \"{PostfixOutput.Trim()}\" ({PostfixError.Trim()}), edge {EdgeExit} \"{EdgeOutput.Trim()}\" ({EdgeError.Trim()})";
    }

    /// <summary>
    /// Every key asked of every map by both: the answers they disagree on, and what Edge found, as "label key value"
    /// (for the test to check that the server answered at all: the same failure on both sides would agree too).
    /// </summary>
    public static async Task<(List<string> Differences, List<string> Found)> CompareAsync(string configDirectory,
        IEnumerable<(string Label, string Map)> maps, IReadOnlyList<string> keys)
    {
        var differences = new List<string>();
        var found = new List<string>();
        foreach ((string label, string map) in maps)
        {
            foreach (string key in keys)
            {
                Answers answers = await AskAsync(configDirectory, key, map);
                if (answers.EdgeExit == 0)
                {
                    found.Add($"{label} {key} {answers.EdgeOutput.Trim()}");
                }
                if (!answers.Agree)
                {
                    differences.Add($"{label} / {key}: {answers}");
                }
            }
        }
        return (differences, found);
    }

    /// <param name="configDirectory">Where both find a main.cf.</param>
    public static async Task<Answers> AskAsync(string configDirectory, string key, string map)
    {
        string postmap = Peer.Require("postmap", "postfix");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = PostmapCommand.Run("postmap", ["-c", configDirectory, "-q", key, map], TextReader.Null, stdout, stderr);
        using var process = Process.Start(new ProcessStartInfo(postmap, ["-c", configDirectory, "-q", key, map])
            { RedirectStandardOutput = true, RedirectStandardError = true })!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new Answers(process.ExitCode, output, await error, exit, stdout.ToString().Replace("\r\n", "\n"), stderr.ToString());
    }
}
