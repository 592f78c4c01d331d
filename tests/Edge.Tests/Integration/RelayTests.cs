using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>Which recipients are accepted: address classes and the default relay restrictions.</summary>
public class RelayTests
{
    // The test client is 127.0.0.1; moving mynetworks elsewhere makes it an unauthorized internet client.
    private const string Outsider = "mynetworks = 192.0.2.0/24\nrelay_domains = relayed.example, .sub.example";

    private static async Task<string> RcptAsync(EdgeInstance edge, string recipient)
    {
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    [Theory]
    [InlineData("postmaster@localhost")]
    [InlineData("user@edge.test")]
    [InlineData("USER@EDGE.TEST")]
    [InlineData("postmaster")]
    [InlineData("user@relayed.example")]
    [InlineData("user@deep.sub.example")]
    [InlineData("user@mx.relayed.example")]
    public async Task Local_and_relay_domains_are_accepted_from_anyone(string recipient)
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider);
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, recipient));
    }

    [Theory]
    [InlineData("user@elsewhere.example")]
    [InlineData("user@sub.example")]
    [InlineData("user@edge.test.evil.example")]
    [InlineData("user@host.edge.test")]
    [InlineData("user@xrelayed.example")]
    public async Task Other_domains_are_deferred_by_default(string recipient)
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider);
        Assert.Equal($"454 4.7.1 <{recipient}>: Relay access denied", await RcptAsync(edge, recipient));
    }

    [Fact]
    public async Task Reject_unauth_destination_refuses_with_554()
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider + "\nsmtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination");
        Assert.Equal("554 5.7.1 <user@elsewhere.example>: Relay access denied", await RcptAsync(edge, "user@elsewhere.example"));
    }

    [Fact]
    public async Task Clients_in_mynetworks_may_relay()
    {
        await using var edge = await EdgeInstance.StartAsync("mynetworks = 127.0.0.0/8");
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "user@elsewhere.example"));
    }

    [Fact]
    public async Task A_transaction_with_only_denied_recipients_has_no_valid_recipients()
    {
        await using var edge = await EdgeInstance.StartAsync(Outsider);
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        Assert.StartsWith("454 4.7.1", await c.CommandAsync("RCPT TO:<x@elsewhere.example>"));
        Assert.Equal("554 5.5.1 Error: no valid recipients", await c.CommandAsync("DATA"));
    }
}
