using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// virtual_alias_maps as Postfix's cleanup applies them: what the queue holds after a message to aliased
/// recipients, and the replies when the expansion cannot be done.
/// </summary>
public class VirtualAliasTests
{
    private const string Aliases = """
        virtual_alias_domains = alias.example, catch.example
        relay_domains = relay.example
        recipient_delimiter = +
        myorigin = edge.test
        virtual_alias_maps = inline:{ info@alias.example=root@edge.test, { team@alias.example = a@relay.example, b@relay.example },
            x@alias.example=y@alias.example, y@alias.example=z@relay.example,
            { self@alias.example = self@alias.example, copy@relay.example }, short@alias.example=root,
            loop1@alias.example=loop2@alias.example, loop2@alias.example=loop1@alias.example,
            @catch.example=catchall@relay.example }
        """;

    /// <summary>The queued recipients (address and ORCPT) of one message sent to <paramref name="recipients"/>.</summary>
    private static async Task<string[]> QueuedRecipientsAsync(EdgeInstance edge, params string[] recipients)
    {
        await SmtpConnection.SendMessageAsync(edge.Port, "Subject: aliased\r\n\r\nbody", recipients);
        var message = Assert.Single(await edge.QueuedAsync());
        return [.. message.Recipients.Select(r => r.Orcpt.Length > 0 ? $"{r.Address} ({r.Orcpt})" : r.Address)];
    }

    [Theory]
    [InlineData("info@alias.example", "root@edge.test (rfc822;info@alias.example)")]
    [InlineData("team@alias.example", "a@relay.example (rfc822;team@alias.example)|b@relay.example (rfc822;team@alias.example)")]
    [InlineData("x@alias.example", "z@relay.example (rfc822;x@alias.example)")]
    [InlineData("self@alias.example", "self@alias.example|copy@relay.example (rfc822;self@alias.example)")]
    [InlineData("short@alias.example", "root@edge.test (rfc822;short@alias.example)")]
    [InlineData("info+news@alias.example", "root+news@edge.test (rfc822;info+news@alias.example)")]
    [InlineData("anyone@catch.example", "catchall@relay.example (rfc822;anyone@catch.example)")]
    [InlineData("postmaster@localhost", "postmaster@localhost")]
    public async Task Aliased_recipients_are_queued_as_their_targets_with_the_original_kept(string recipient, string queued)
    {
        await using var edge = await EdgeInstance.StartAsync(Aliases);
        Assert.Equal(queued.Split('|'), await QueuedRecipientsAsync(edge, recipient));
    }

    [Fact]
    public async Task Two_aliases_naming_one_address_give_it_one_copy()
    {
        await using var edge = await EdgeInstance.StartAsync(Aliases);
        Assert.Equal(["root@edge.test (rfc822;info@alias.example)"],
            await QueuedRecipientsAsync(edge, "info@alias.example", "short@alias.example"));
    }

    [Fact]
    public async Task An_alias_loop_is_refused_with_a_temporary_error_and_nothing_is_queued()
    {
        await using var edge = await EdgeInstance.StartAsync(Aliases + "\nvirtual_alias_recursion_limit = 20");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.EnvelopeAsync(to: "loop1@alias.example");
        Assert.StartsWith("354 ", await c.CommandAsync("DATA"));
        Assert.Equal("451 4.3.0 Error: virtual alias expansion failed, try again later", await c.CommandAsync("Subject: loop\r\n\r\nx\r\n."));
        Assert.Empty(await edge.QueuedAsync());
        // The session goes on: the next message is taken.
        await c.EnvelopeAsync(to: "info@alias.example");
        Assert.StartsWith("354 ", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: fine\r\n\r\nx\r\n."));
    }

    [Fact]
    public async Task An_expansion_past_its_limit_is_refused()
    {
        await using var edge = await EdgeInstance.StartAsync(Aliases + "\nvirtual_alias_expansion_limit = 1");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.EnvelopeAsync(to: "team@alias.example");
        Assert.StartsWith("354 ", await c.CommandAsync("DATA"));
        Assert.Equal("451 4.3.0 Error: virtual alias expansion failed, try again later", await c.CommandAsync("Subject: big\r\n\r\nx\r\n."));
    }

    [Fact]
    public async Task Unlisted_users_of_a_virtual_alias_domain_are_refused_at_rcpt()
    {
        await using var edge = await EdgeInstance.StartAsync(Aliases);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        Assert.Equal("550 5.1.1 <nobody@alias.example>: Recipient address rejected: User unknown in virtual alias table",
            await c.CommandAsync("RCPT TO:<nobody@alias.example>"));
    }

    [Fact]
    public async Task Without_virtual_alias_domains_the_domains_are_the_keys_of_the_alias_table()
    {
        using var directory = new TempDirectory();
        directory.Write("virtual", "# virtual(5): a domain line declares the domain\nalias.example anything\ninfo@alias.example root@edge.test\n");
        directory.Write("relay-domains", "# relayed for\nrelay.example other.example\n");
        await using var edge = await EdgeInstance.StartAsync($"""
            virtual_alias_maps = hash:{directory.File("virtual")}
            relay_domains = {directory.File("relay-domains")}
            mynetworks = 192.0.2.0/24
            """, reuse: directory);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        Assert.Equal("550 5.1.1 <nobody@alias.example>: Recipient address rejected: User unknown in virtual alias table",
            await c.CommandAsync("RCPT TO:<nobody@alias.example>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<anyone@sub.other.example>"));
        Assert.Equal("454 4.7.1 <anyone@elsewhere.example>: Relay access denied", await c.CommandAsync("RCPT TO:<anyone@elsewhere.example>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<info@alias.example>"));
        Assert.StartsWith("354 ", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        var message = Assert.Single(await edge.QueuedAsync());
        Assert.Equal(["anyone@sub.other.example", "root@edge.test"], message.Recipients.Select(r => r.Address));
    }
}
