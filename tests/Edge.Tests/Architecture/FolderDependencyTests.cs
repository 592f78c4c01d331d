using System.Text.RegularExpressions;
using Edge.Tests.Support;

namespace Edge.Tests.Architecture;

/// <summary>
/// The folders of src/Edge follow the path of a message, and none depends on another in a cycle: the protocol knows
/// nothing of the queue's insides, the queue nothing of the protocol, and the mail types they share live in Mail/,
/// below all of them. A folder depends on another when one of its files names that folder's namespace: a using
/// directive, a qualified name (Edge.Queue.QueueStore), or a name relative to Edge (Cleanup.ContentChecks).
/// How it fails: add "using Edge.Smtp.Session;" to a file of src/Edge/Queue and use Peer there, and the test names
/// the cycle Queue -> Smtp -> Queue.
/// </summary>
public partial class FolderDependencyTests
{
    private static readonly string[] Folders = [.. Directory.GetDirectories(Repository.Source)
        .Select(Path.GetFileName).OfType<string>().Where(f => f is not ("bin" or "obj"))];

    private static Dictionary<string, SortedSet<string>> Graph()
    {
        var named = new Regex($@"(?<![\w.])(?:global::)?(?:Edge\.)?({string.Join('|', Folders)})\.[A-Z]|using (?:static )?Edge\.({string.Join('|', Folders)})\b");
        var graph = Folders.ToDictionary(f => f, _ => new SortedSet<string>());
        foreach (string file in Repository.SourceFiles)
        {
            string relative = Path.GetRelativePath(Repository.Source, file);
            int separator = relative.IndexOf(Path.DirectorySeparatorChar);
            if (separator < 0)
            {
                continue;
            }
            string folder = relative[..separator];
            string code = Comments().Replace(File.ReadAllText(file), "");
            foreach (Match match in named.Matches(code))
            {
                string target = match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;
                if (target != folder)
                {
                    graph[folder].Add(target);
                }
            }
        }
        return graph;
    }

    [Fact]
    public void No_folder_depends_on_another_in_a_cycle()
    {
        Dictionary<string, SortedSet<string>> graph = Graph();
        var cycles = new List<string>();
        var state = new Dictionary<string, int>();
        var path = new List<string>();
        void Visit(string folder)
        {
            state[folder] = 1;
            path.Add(folder);
            foreach (string next in graph[folder])
            {
                if (state.GetValueOrDefault(next) == 1)
                {
                    cycles.Add(string.Join(" -> ", path[path.IndexOf(next)..].Append(next)));
                }
                else if (state.GetValueOrDefault(next) == 0)
                {
                    Visit(next);
                }
            }
            path.RemoveAt(path.Count - 1);
            state[folder] = 2;
        }
        foreach (string folder in graph.Keys.Order())
        {
            if (state.GetValueOrDefault(folder) == 0)
            {
                Visit(folder);
            }
        }
        Assert.True(cycles.Count == 0, "folder dependency cycles:\n" + string.Join("\n", cycles) + "\n\n" +
            string.Join("\n", graph.Select(g => $"{g.Key} -> {string.Join(' ', g.Value)}")));
    }

    [Fact]
    public void The_shared_mail_types_depend_on_no_other_folder()
    {
        Assert.Empty(Graph()["Mail"]);
    }

    [Fact]
    public void Only_cleanup_appends_messages_to_the_queue()
    {
        // Every producer of mail submits through cleanup: no folder but Cleanup appends messages to the queue.
        string[] appending = [.. Repository.SourceFiles
            .Where(f => File.ReadAllText(f).Contains(".AppendMessage(", StringComparison.Ordinal))
            .Select(f => Path.GetRelativePath(Repository.Source, f))];
        Assert.Equal([Path.Combine("Cleanup", "CleanupMessage.cs")], appending);
    }

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();
}
