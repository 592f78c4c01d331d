using Edge.Tests.Support;

namespace Edge.Tests.Tables;

/// <summary>tcp: tables against a server written here, asked as Debian's postmap asks it.</summary>
public class TcpTableTests
{
    private static Func<string, string> Server() => request => request switch
    {
        "get a%20b%25c" => "200 found%20it",
        "get known" => "200 value",
        "get later" => "400 try again",
        "get garbled" => "2xx what",
        _ => "500 not found",
    };

    [Theory]
    [InlineData("a b%c")]
    [InlineData("known")]
    [InlineData("unknown")]
    public async Task A_lookup_finds_what_postfix_finds(string key)
    {
        await using var server = new TcpMapServer { Answer = Server() };
        using var config = new TempDirectory();
        config.Write("main.cf", "");
        PostmapQuery.Answers answers = await PostmapQuery.AskAsync(config.Path, key, $"tcp:127.0.0.1:{server.Port}");
        Assert.True(answers.Agree, answers.ToString());
        Assert.Equal(2, server.Requests.Count);
        Assert.Single(server.Requests.Distinct());
    }

    [Fact]
    public async Task Recipients_are_taken_refused_and_deferred_as_the_server_says()
    {
        await using var server = new TcpMapServer
        {
            Answer = request => request switch
            {
                "get bad@edge.test" => "200 REJECT",
                "get later@edge.test" => "400 busy",
                "get garbled@edge.test" => "two hundred",
                _ => "500 no",
            },
        };
        await using EdgeInstance edge = await EdgeInstance.StartAsync(
            $"smtpd_recipient_restrictions = check_recipient_access tcp:127.0.0.1:{server.Port}, reject_unauth_destination");
        await using SmtpConnection c = await edge.ConnectAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.example"));
        Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("554 5.7.1 <bad@edge.test>: Recipient address rejected: Access denied", await c.CommandAsync("RCPT TO:<bad@edge.test>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<good@edge.test>"));
        Assert.Equal("451 4.3.5 <later@edge.test>: Recipient address rejected: Server configuration error",
            await c.CommandAsync("RCPT TO:<later@edge.test>"));
        Assert.Equal("451 4.3.5 <garbled@edge.test>: Recipient address rejected: Server configuration error",
            await c.CommandAsync("RCPT TO:<garbled@edge.test>"));
    }
}
