using System.Text;
using System.Text.RegularExpressions;
using Edge.Tests.Support;

namespace Edge.Tests.Compare;

/// <summary>
/// The same main.cf, tables and SMTP sessions against Debian's Postfix 3.7 and against Edge: every reply's code,
/// enhanced status code and text must agree (queue IDs aside). The cases are Corpus/*.case.
/// </summary>
public partial class PostfixComparisonTests
{
    /// <summary>
    /// What both servers are given before each case's lines: Edge's test base (EdgeInstance.BaseMainCf), a banner without
    /// the product name, no error sleep, and the defaults where Postfix 3.7's and Edge's (Postfix 3.9's) differ.
    /// </summary>
    private const string Common = """
        myhostname = mx.edge.test
        mydestination = localhost, edge.test
        local_recipient_maps =
        smtpd_banner = $myhostname ESMTP
        smtpd_error_sleep_time = 0
        smtpd_forbid_unauth_pipelining = yes
        mynetworks = 192.0.2.0/24
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
            files.Write(file, text);
        }
        string mainCf = Common + "\n" + corpusCase.MainCf.Replace("$DIR", files.Path);
        await using PostfixServer postfix = await PostfixServer.StartAsync(mainCf);
        await using EdgeInstance edge = await EdgeInstance.StartAsync(mainCf);
        var differences = new StringBuilder();
        for (int i = 0; i < corpusCase.Sessions.Count; i++)
        {
            await using SmtpConnection toPostfix = await postfix.ConnectAsync();
            await using SmtpConnection toEdge = await edge.ConnectAsync();
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
                inData = line.Equals("DATA", StringComparison.OrdinalIgnoreCase) && expected.StartsWith("354", StringComparison.Ordinal);
                if (expected != actual)
                {
                    differences.Append($"session {i + 1}, {command}\n  postfix: {expected.Replace("\n", "\n           ")}\n  edge:    {actual.Replace("\n", "\n           ")}\n");
                }
            }
        }
        Assert.True(differences.Length == 0, $"{name}.case: Edge and Postfix differ:\n{differences}\npostfix log:\n{postfix.Log}");
    }

    /// <summary>The reply, or what happened instead, so that a session goes on to show every difference.</summary>
    private static async Task<string> AskAsync(SmtpConnection connection, string command)
    {
        try
        {
            return Normalize(await connection.CommandAsync(command));
        }
        catch (Exception e) when (e is TimeoutException or IOException)
        {
            return $"(no reply: {e.Message})";
        }
    }

    /// <summary>Queue IDs differ by nature.</summary>
    private static string Normalize(string reply) => QueueId().Replace(reply, "queued as QUEUEID");

    [GeneratedRegex(@"queued as \w+")]
    private static partial Regex QueueId();
}
