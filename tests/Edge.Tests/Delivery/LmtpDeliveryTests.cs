using System.Net.Sockets;
using Edge.Delivery.Smtp;

namespace Edge.Tests.Delivery;

/// <summary>The LMTP client against Dovecot's LMTP server, over TCP and over its Unix socket.</summary>
public class LmtpDeliveryTests
{
    private static string Message => Messages.Lines("Subject: lmtp", "", ".dot line", "body");

    private static async Task DeliversPerRecipientAsync(Dovecot dovecot, NextHopServer server)
    {
        var outcomes = await Messages.DeliverAsync(Messages.Request(Message, "alice", "bob", "carol"), Messages.Options(lmtp: true), server);

        Assert.Equal(RecipientStatus.Sent, outcomes[0].Status);
        Assert.Matches(@"^250 2\.0\.0 <alice> \S+ Saved$", outcomes[0].Reply);
        Assert.Equal(server.Relay, outcomes[0].Relay);

        Assert.Equal(RecipientStatus.Bounced, outcomes[1].Status);
        Assert.Equal("5.1.1", outcomes[1].Dsn);
        Assert.Equal($"host {server.NameAddr} said: 550 5.1.1 <bob> User doesn't exist: bob (in reply to RCPT TO command)", outcomes[1].Reply);

        // Accepted at RCPT, refused after the dot: LMTP's reply for this recipient alone.
        Assert.Equal(RecipientStatus.Bounced, outcomes[2].Status);
        Assert.Equal("5.2.2", outcomes[2].Dsn);
        Assert.StartsWith($"host {server.NameAddr} said: 552 5.2.2 <carol> ", outcomes[2].Reply);
        Assert.EndsWith("(in reply to end of DATA command)", outcomes[2].Reply);

        string stored = Assert.Single(dovecot.Mailbox("alice"));
        Assert.EndsWith(Message.Replace("\r\n", "\n"), stored.Replace("\r\n", "\n"));
        Assert.Empty(dovecot.Mailbox("carol"));
    }

    [Fact]
    public async Task Lmtp_over_tcp_decides_each_recipient()
    {
        await using var dovecot = await Dovecot.StartAsync();
        await DeliversPerRecipientAsync(dovecot, Messages.Local("lmtp.test", dovecot.Port));
    }

    [Fact]
    public async Task Lmtp_over_a_unix_socket_decides_each_recipient()
    {
        await using var dovecot = await Dovecot.StartAsync();
        var server = new NextHopServer("localhost", new UnixDomainSocketEndPoint(dovecot.UnixSocket));
        Assert.Equal($"localhost[{dovecot.UnixSocket}]", server.Relay);
        await DeliversPerRecipientAsync(dovecot, server);
    }
}
