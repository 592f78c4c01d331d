using Edge.Admin;
using Edge.Config;

namespace Edge.Cli;

/// <summary>postqueue -p / mailq and postcat -q, against a running server or a stopped one; reload.</summary>
internal static class AdminCommands
{
    public static async Task<int> PostqueueAsync(CommandLine line, TextWriter error)
    {
        if (line.Flags.Contains("-f"))
        {
            // postqueue -f: the running queue manager attempts every deferred message now.
            return await RequestAsync(line, "FLUSH", error, serverOnly: true);
        }
        if (line.Values.TryGetValue("-s", out string? site))
        {
            // postqueue -s site: the running queue manager attempts the site's deferred mail now.
            return await RequestAsync(line, "FLUSH " + site, error, serverOnly: true);
        }
        if (line.Flags.Contains("-j"))
        {
            return await RequestAsync(line, "JSON", error);
        }
        if (!line.Flags.Contains("-p"))
        {
            throw new UsageException("usage: edge postqueue [-c DIR] -p | -j | -f | -s site");
        }
        return await RequestAsync(line, "LIST", error);
    }

    public static async Task<int> PostcatAsync(CommandLine line, TextWriter error)
    {
        if (!line.Values.TryGetValue("-q", out string? id))
        {
            throw new UsageException("usage: edge postcat [-c DIR] -q queue_id");
        }
        return await RequestAsync(line, "CAT " + id, error);
    }

    /// <summary>edge postsuper -d|-h|-H|-r queue_id|ALL [queue ...]: delete, hold, release or requeue.</summary>
    public static async Task<int> PostsuperAsync(CommandLine line, TextWriter error)
    {
        foreach (string queue in line.Arguments)
        {
            if (!QueueAdministration.QueueNames.Contains(queue))
            {
                throw new UsageException($"postsuper: fatal: invalid directory name: {queue} (queues are hold, incoming, active, deferred and maildrop)");
            }
        }
        foreach (string flag in new[] { "-d", "-h", "-H", "-r" })
        {
            if (line.Values.TryGetValue(flag, out string? target))
            {
                // As Postfix: -H looks in the hold queue unless told otherwise.
                IEnumerable<string> queues = line.Arguments.Count == 0 && flag == "-H" ? ["hold"] : line.Arguments;
                return await RequestAsync(line, string.Join(' ', [$"SUPER {flag} {target}", .. queues]), error);
            }
        }
        throw new UsageException("usage: edge postsuper [-c DIR] -d|-h|-H|-r queue_id|ALL [queue ...]");
    }

    /// <summary>edge qshape [-c DIR] [-s]: the queue by domain and age (-s: sender domains).</summary>
    public static Task<int> QshapeAsync(CommandLine line, TextWriter error) =>
        RequestAsync(line, line.Flags.Contains("-s") ? "QSHAPE -s" : "QSHAPE", error);

    /// <summary>edge reload: the running server re-reads its configuration (postfix reload).</summary>
    public static Task<int> ReloadAsync(CommandLine line, TextWriter error) =>
        RequestAsync(line, "RELOAD", error, serverOnly: true);

    private static async Task<int> RequestAsync(CommandLine line, string request, TextWriter error, bool serverOnly = false)
    {
        MainConfig config = MainConfig.Load(line.ConfigDirectory, w => error.WriteLine("warning: " + w));
        string queueDirectory = Path.GetFullPath(config.Get("queue_directory"));
        await using Stream stdout = Console.OpenStandardOutput();
        return await AdminClient.RequestAsync(queueDirectory, request, stdout, error, serverOnly) ? 0 : 1;
    }
}
