using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Edge.Tests.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Compare;

/// <summary>
/// The same main.cf, tables and SMTP sessions against Debian's Postfix 3.7 and against Edge: every reply's code,
/// enhanced status code and text must agree (queue IDs aside), and so must what each queued of a message both
/// accepted: the envelope sender and recipients, and the headers (Received: aside). The cases are Corpus/*.case.
/// </summary>
public partial class PostfixComparisonTests
{
    /// <summary>
    /// What both servers are given before each case's lines: Edge's test base (EdgeInstance.BaseMainCf), a banner without
    /// the product name, no error sleep, and the defaults where Postfix 3.7's and Edge's (Postfix 3.9's) differ.
    /// </summary>
    private const string Common = PostfixServer.ComparableMainCf + """

        smtpd_forbid_unauth_pipelining = yes
        local_header_rewrite_clients = permit_inet_interfaces
        """;

    public static TheoryData<string> Cases => [.. CorpusCase.Names];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Edge_replies_as_postfix_does(string name)
    {
        CorpusCase corpusCase = CorpusCase.Load(name);
        using var files = new TempDirectory();
        foreach ((string file, string text) in corpusCase.Files)
        {
            files.Write(file, text.Replace("$DIR", files.Path));
        }
        string mainCf = Common + "\n" + corpusCase.MainCf.Replace("$DIR", files.Path);
        // Postfix asks the nameserver of /etc/resolv.conf, which has no port: dnsmasq listens on port 53 of a loopback
        // address of this case's own.
        using Dnsmasq? dns = corpusCase.Dns.Count == 0 ? null
            : await Dnsmasq.StartAsync(corpusCase.Dns, new IPEndPoint(IPAddress.Parse($"127.53.{Random.Shared.Next(1, 255)}.{Random.Shared.Next(1, 255)}"), 53));
        await using PostfixServer postfix = await PostfixServer.StartAsync(mainCf, nameserver: dns?.EndPoint.Address);
        // Postfix runs no queue manager; Edge's waits, so that both queues still hold what was accepted at the end.
        await using EdgeInstance edge = await EdgeInstance.StartAsync(mainCf + "\ndefer_transports = " + NoDelivery +
            (dns is null ? "" : $"\nedge_dns_servers = {dns.EndPoint}"));
        var differences = new StringBuilder();
        var queued = new List<(string Postfix, string Edge)>();
        for (int i = 0; i < corpusCase.Sessions.Count; i++)
        {
            await using SmtpConnection toPostfix = await SmtpConnection.OpenAsync(postfix.Port, readGreeting: false);
            await using SmtpConnection toEdge = await edge.ConnectAsync(readGreeting: false);
            string postfixGreeting = await GreetingAsync(toPostfix);
            string edgeGreeting = await GreetingAsync(toEdge);
            if (postfixGreeting != edgeGreeting)
            {
                differences.Append($"session {i + 1}, greeting\n  postfix: {postfixGreeting}\n  edge:    {edgeGreeting}\n");
            }
            if (!postfixGreeting.StartsWith("220 ", StringComparison.Ordinal))
            {
                // Refused at the greeting (a connection limit): the session ends there.
                continue;
            }
            bool inData = false;
            foreach (string line in corpusCase.Sessions[i])
            {
                string command = inData && line == "." ? "." : line;
                if (inData && line != ".")
                {
                    await toPostfix.SendAsync(line + "\r\n");
                    await toEdge.SendAsync(line + "\r\n");
                    continue;
                }
                string expected = await AskAsync(toPostfix, command);
                string actual = await AskAsync(toEdge, command);
                if (QueueId().Match(expected) is { Success: true } postfixId && QueueId().Match(actual) is { Success: true } edgeId)
                {
                    queued.Add((postfixId.Groups[1].Value, edgeId.Groups[1].Value));
                }
                expected = Normalize(expected);
                actual = Normalize(actual);
                inData = line.Split(Pipelined)[^1].Equals("DATA", StringComparison.OrdinalIgnoreCase)
                    && expected.Split('\n')[^1].StartsWith("354", StringComparison.Ordinal);
                if (expected != actual)
                {
                    differences.Append($"session {i + 1}, {command}\n  postfix: {expected.Replace("\n", "\n           ")}\n  edge:    {actual.Replace("\n", "\n           ")}\n");
                }
            }
        }
        foreach ((string postfixId, string edgeId) in queued)
        {
            // The Message-Id: and Date: cleanup adds differ by nature (queue ID, time).
            string expected = AddedDate().Replace(Regex.Replace(PostfixQueueFile(await postfix.PostcatAsync(postfixId)),
                $@"<\d{{14}}\.{postfixId}@", "<QUEUEID@"), "${1}Date: DATE");
            string actual = AddedDate().Replace((await EdgeQueueFileAsync(edge, edgeId)).Replace($"<{edgeId}@", "<QUEUEID@"), "${1}Date: DATE");
            if (expected != actual)
            {
                differences.Append($"queued message {postfixId} / {edgeId}\n  postfix:\n{expected}  edge:\n{actual}");
            }
        }
        Assert.True(differences.Length == 0, $"{name}.case: Edge and Postfix differ:\n{differences}\npostfix log:\n{postfix.Log}");
    }

    private const string NoDelivery = "local, virtual, relay, smtp, lmtp, error, retry, discard";

    /// <summary>From postcat -e -h: "sender: …", each "recipient: …", then the headers.</summary>
    private static string PostfixQueueFile(string postcat)
    {
        var envelope = new StringBuilder();
        var headers = new List<string>();
        bool inHeaders = false;
        foreach (string line in postcat.Split('\n'))
        {
            if (line.StartsWith("*** ", StringComparison.Ordinal))
            {
                inHeaders = line.StartsWith("*** MESSAGE CONTENTS", StringComparison.Ordinal);
            }
            else if (inHeaders)
            {
                headers.Add(line);
            }
            else if (line.StartsWith("sender: ", StringComparison.Ordinal) || line.StartsWith("recipient: ", StringComparison.Ordinal))
            {
                envelope.Append(line).Append('\n');
            }
        }
        return envelope + Headers(headers);
    }

    /// <summary>The same view of the message Edge queued.</summary>
    private static async Task<string> EdgeQueueFileAsync(EdgeInstance edge, string id)
    {
        Edge.Queue.QueuedMessage message = (await edge.QueuedAsync()).Single(m => m.Id.ToString() == id);
        var envelope = new StringBuilder($"sender: {message.Sender}\n");
        foreach (Edge.Queue.QueuedRecipient recipient in message.Recipients)
        {
            envelope.Append($"recipient: {recipient.Address}\n");
        }
        using var content = new MemoryStream();
        await edge.Queue.CopyContentAsync(message, content);
        string stored = Encoding.UTF8.GetString(content.ToArray()).Replace("\r\n", "\n");
        int end = stored.IndexOf("\n\n", StringComparison.Ordinal);
        return envelope + Headers((end < 0 ? stored : stored[..end]).Split('\n'));
    }

    /// <summary>The header lines up to the body, without the Received: headers (their times and IDs differ by nature).</summary>
    private static string Headers(IEnumerable<string> lines)
    {
        var text = new StringBuilder();
        bool received = false;
        foreach (string line in lines.TakeWhile(l => l.Length > 0 && (char.IsWhiteSpace(l[0]) || l.Contains(':'))))
        {
            received = line.StartsWith("Received:", StringComparison.OrdinalIgnoreCase) || (received && char.IsWhiteSpace(line[0]));
            if (!received)
            {
                text.Append(line).Append('\n');
            }
        }
        return text.ToString();
    }

    private static async Task<string> GreetingAsync(SmtpConnection connection)
    {
        try
        {
            return await connection.ReadReplyAsync();
        }
        catch (Exception e) when (e is TimeoutException or IOException)
        {
            return $"(no greeting: {e.Message})";
        }
    }

    /// <summary>Between commands on one session line, they are sent at once, without waiting for replies.</summary>
    private const string Pipelined = "\\r\\n";

    /// <summary>
    /// The reply, or what happened instead, so that a session goes on to show every difference; commands pipelined on
    /// one line get their replies one per line.
    /// </summary>
    private static async Task<string> AskAsync(SmtpConnection connection, string command)
    {
        try
        {
            string[] commands = command.Split(Pipelined);
            if (commands.Length == 1)
            {
                return await connection.CommandAsync(command);
            }
            await connection.SendAsync(string.Concat(commands.Select(c => c + "\r\n")));
            var replies = new List<string>();
            foreach (string _ in commands)
            {
                replies.Add(await connection.ReadReplyAsync());
            }
            return string.Join("\n", replies);
        }
        catch (Exception e) when (e is TimeoutException or IOException)
        {
            // A server that closed is one that closed: whether the client saw a reset or an orderly close depends on
            // whether the close came before or after the client's next command reached it, which is timing.
            return e is TimeoutException ? "(no reply: none within the time limit)" : "(no reply: the server closed the connection)";
        }
    }

    /// <summary>Queue IDs differ by nature.</summary>
    private static string Normalize(string reply) => QueueId().Replace(reply, "queued as QUEUEID");

    [GeneratedRegex(@"(?m)^(Resent-)?Date: \w{3}, [ \d]\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000 \(UTC\)$")]
    private static partial Regex AddedDate();

    [GeneratedRegex(@"queued as (\w+)")]
    private static partial Regex QueueId();
}
