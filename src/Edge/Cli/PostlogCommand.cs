using Edge.Admin;
using Edge.Config;
using Edge.Hosting;
using Edge.Logging;
using Edge.Queue;

namespace Edge.Cli;

/// <summary>
/// <c>edge postlog [-c DIR] [-p priority] [-t tag] [text ...]</c>, as Postfix's postlog(1): the text (or each line of
/// standard input) as a mail log line of the program edge/TAG. A running server writes it into its log, beside its own
/// lines; without one, it goes where the server would write it (maillog_file, or standard error here).
/// </summary>
internal static class PostlogCommand
{
    public static async Task<int> RunAsync(CommandLine line, TextReader stdin, TextWriter stderr)
    {
        string priority = line.Values.GetValueOrDefault("-p", "info").ToLowerInvariant();
        string tag = line.Values.GetValueOrDefault("-t", "postlog");
        if (line.Flags.Count > 0 || !PostlogLine.IsValid(priority, tag))
        {
            throw new UsageException("usage: edge postlog [-c config_dir] [-p info|warning|error|fatal|panic] [-t tag] [text ...] " +
                "(a tag is letters, digits and . _ / -)");
        }
        List<string> texts = line.Arguments.Count > 0 ? [string.Join(' ', line.Arguments)] : [];
        if (texts.Count == 0)
        {
            while (stdin.ReadLine() is { } input)
            {
                texts.Add(input);
            }
        }
        MainConfig config = MainConfig.Load(line.ConfigDirectory);
        string queueDirectory = Path.GetFullPath(config.Get("queue_directory"));
        if (!QueueLock.IsFree(queueDirectory))
        {
            foreach (string text in texts.Where(t => t.Length > 0))
            {
                using var answer = new MemoryStream();
                if (!await AdminClient.RequestAsync(queueDirectory, $"LOG {priority} {tag} {text}", answer, stderr, serverOnly: true))
                {
                    return 1;
                }
            }
            return 0;
        }
        if (MaillogFile.Open(config) is { } maillog)
        {
            MailLog.Configure(config.Get("myhostname"), maillog);
        }
        foreach (string text in texts.Where(t => t.Length > 0))
        {
            PostlogLine.Write(priority, tag, text);
        }
        return 0;
    }
}
