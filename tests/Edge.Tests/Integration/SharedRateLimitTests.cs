using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// anvil's rate limits across a fleet: two Edge servers with edge_policy_store = redis: count a client's connections
/// and commands on both, so a client that spreads its mail over the servers meets the limit as on one; with the store
/// gone, each server still counts what it sees.
/// </summary>
public class SharedRateLimitTests
{
    private static Task<EdgeInstance> StartAsync(RedisServer redis, string limits) => EdgeInstance.StartAsync(
        $"edge_policy_store = {redis.Store}\nsmtpd_client_event_limit_exceptions =\n{limits}");

    /// <summary>What the store holds for a counter of the client 127.0.0.1 (the servers' service name is "127.0.0.1:0").</summary>
    private static async Task<string> CounterAsync(RedisServer redis, string what)
    {
        (_, string output) = await Peer.RunAsync("redis-cli", "redis-tools", "-p", redis.Port.ToString(), "GET", $"edge-policy:anvil:127.0.0.1:0:{what}:127.0.0.1");
        return output.Trim();
    }

    /// <summary>Waits until the commands the servers counted have reached the store (they are told without waiting).</summary>
    private static async Task WaitForCounterAsync(RedisServer redis, string what, string value)
    {
        for (int i = 0; i < 100 && await CounterAsync(redis, what) != value; i++)
        {
            await Task.Delay(20);
        }
        Assert.Equal(value, await CounterAsync(redis, what));
    }

    [Fact]
    public async Task Messages_and_recipients_count_on_every_server_of_the_fleet()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        const string limits = "smtpd_client_message_rate_limit = 3\nsmtpd_client_recipient_rate_limit = 3";
        await using EdgeInstance first = await StartAsync(redis, limits);
        await using EdgeInstance second = await StartAsync(redis, limits);
        await using (SmtpConnection c = await first.ConnectAsync())
        {
            await c.CommandAsync("EHLO client.example");
            Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<user1@edge.test>"));
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<user2@edge.test>"));
            await c.CommandAsync("RSET");
            Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        }
        await WaitForCounterAsync(redis, "Message", "2");
        await WaitForCounterAsync(redis, "Recipient", "2");
        await using (SmtpConnection c = await second.ConnectAsync())
        {
            await c.CommandAsync("EHLO client.example");
            Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<user3@edge.test>"));
            Assert.Equal("450 4.7.1 Error: too many recipients from 127.0.0.1", await c.CommandAsync("RCPT TO:<user4@edge.test>"));
            await c.CommandAsync("RSET");
            Assert.Equal("450 4.7.1 Error: too much mail from 127.0.0.1", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        }
        // One counter holds both servers' commands, the refused one too (anvil counts before the limit is applied).
        await WaitForCounterAsync(redis, "Message", "4");
    }

    [Fact]
    public async Task A_connection_rate_counts_the_connections_to_every_server()
    {
        await using RedisServer redis = await RedisServer.StartAsync();
        await using EdgeInstance first = await StartAsync(redis, "smtpd_client_connection_rate_limit = 2");
        await using EdgeInstance second = await StartAsync(redis, "smtpd_client_connection_rate_limit = 2");
        await using SmtpConnection one = await first.ConnectAsync();
        await using SmtpConnection two = await second.ConnectAsync();
        await using SmtpConnection three = await first.ConnectAsync(readGreeting: false);
        Assert.Equal("421 4.7.0 mx.edge.test Error: too many connections from 127.0.0.1", await three.ReadReplyAsync());
    }

    [Fact]
    public async Task Without_the_store_each_server_counts_what_it_sees()
    {
        RedisServer redis = await RedisServer.StartAsync();
        await using EdgeInstance edge = await StartAsync(redis, "smtpd_client_message_rate_limit = 1");
        await redis.DisposeAsync();
        await using SmtpConnection c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        await c.CommandAsync("RSET");
        Assert.Equal("450 4.7.1 Error: too much mail from 127.0.0.1", await c.CommandAsync("MAIL FROM:<a@example.org>"));
    }
}
