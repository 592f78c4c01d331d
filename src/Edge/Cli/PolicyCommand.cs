using Edge.Config;
using Edge.Dns;
using Edge.Hosting;
using Edge.Restrictions.Policy;
using Edge.Restrictions.Policy.Store;

namespace Edge.Cli;

/// <summary>
/// <c>edge policy test FILE [--stage NAME] [--message FILE] [-c DIR] name=value ...</c>: one call of a policy script without a server,
/// as <c>postmap -q</c> is one lookup: the request has the attributes given (every other one of Postfix's policy
/// protocol empty), the script runs within the limits of the configuration (the embedded default without -c), and
/// the action is printed on the first line, then the script's log() lines. Without --stage the server's choice is
/// made: the function of the request's protocol_state (RCPT unless given), else policy(). With --message, endOfData
/// (unless --stage says otherwise) is shown that message file (recipients from recipient=a,b). The script's store is an empty
/// one in memory, unless edge_policy_store names a Redis server, which is shared by design. Exit status 0 on an answer;
/// 1 when the script cannot be loaded, fails or is stopped by a limit (said on standard error with the file and line).
/// </summary>
internal static class PolicyCommand
{
    /// <summary>The functions a script may define, and the protocol_state a request for each has unless given.</summary>
    private static readonly Dictionary<string, string> Stages = ScriptStages.All.Append((Function: ScriptStages.Fallback, State: "RCPT"))
        .ToDictionary(s => s.Function, s => s.State, StringComparer.Ordinal);

    /// <summary>A message file as it would arrive by SMTP: lines end in CRLF, whatever the file uses.</summary>
    private static byte[] Crlf(byte[] content)
    {
        var lines = new MemoryStream(content.Length + content.Length / 32);
        for (int i = 0; i < content.Length; i++)
        {
            if (content[i] == '\n' && (i == 0 || content[i - 1] != '\r'))
            {
                lines.WriteByte((byte)'\r');
            }
            lines.WriteByte(content[i]);
        }
        return lines.ToArray();
    }

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter errors)
    {
        CommandLine line = CommandLine.Parse(args, "--stage", "--message");
        if (line.Arguments.Count < 2 || line.Arguments[0] != "test")
        {
            throw new UsageException("usage: edge policy test FILE [--stage NAME] [--message FILE] [-c DIR] name=value ...");
        }
        string? messageFile = line.Values.GetValueOrDefault("--message");
        string? stage = line.Values.GetValueOrDefault("--stage") ?? (messageFile is null ? null : "endOfData");
        string state = "RCPT";
        if (stage is not null && !Stages.TryGetValue(stage, out state!))
        {
            throw new UsageException($"unknown stage \"{stage}\" (one of {string.Join(", ", Stages.Keys)})");
        }
        var attributes = new List<KeyValuePair<string, string>> { new("protocol_state", state) };
        foreach (string attribute in line.Arguments.Skip(2))
        {
            int equals = attribute.IndexOf('=');
            if (equals <= 0)
            {
                throw new UsageException($"\"{attribute}\" is not name=value");
            }
            attributes.RemoveAll(a => a.Key == attribute[..equals]);
            attributes.Add(new(attribute[..equals], attribute[(equals + 1)..]));
        }
        MainConfig config = MainConfig.Load(line.ConfigDirectory);
        string path = Path.GetFullPath(line.Arguments[1]);
        ScriptLimits limits = ScriptLimits.From(config);
        await using var stores = new PolicyStores(openFaster: false);
        using DnsResolver dns = DeliveryFactory.Resolver(config, out string? dnsError);
        if (dnsError is not null)
        {
            throw config.Error("edge_dns_servers", dnsError);
        }
        if (PolicyScript.Load(path, limits, stores.Open(config, limits.Time), dns, Tables.TableSettings.From(config), out string? error) is not { } script)
        {
            errors.WriteLine($"edge policy: {error}");
            return 1;
        }
        var logged = new List<string>();
        try
        {
            using var instance = new ScriptInstance(script, logged.Add);
            if (stage is not null && !instance.Defines(stage))
            {
                errors.WriteLine($"edge policy: check_policy_script {path}: the script defines no function {stage}(request)");
                return 1;
            }
            var request = PolicyRequest.From(attributes);
            if (messageFile is not null)
            {
                request.Show(MessageView.Parse(Crlf(File.ReadAllBytes(messageFile)),
                    [.. attributes.Where(a => a.Key == "recipient").SelectMany(a => a.Value.Split(',', StringSplitOptions.RemoveEmptyEntries))],
                    config.GetInt("edge_policy_body_limit")));
            }
            string action = await instance.CallAsync(stage, request);
            output.WriteLine(action);
            logged.ForEach(output.WriteLine);
            return 0;
        }
        catch (Exception e)
        {
            logged.ForEach(output.WriteLine);
            errors.WriteLine($"edge policy: check_policy_script {path}{ScriptFailure.Describe(e)}");
            return 1;
        }
    }
}
