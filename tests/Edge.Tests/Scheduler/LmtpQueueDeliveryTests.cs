using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>
/// The mail store behind the MX: Edge accepts for a domain and the queue manager hands the mail to Dovecot's
/// LMTP server through transport_maps, over TCP and over its Unix socket; a user Dovecot lacks bounces.
/// </summary>
public class LmtpQueueDeliveryTests
{
    private static TempDirectory Config(string nexthop)
    {
        var directory = new TempDirectory();
        directory.Write("main.cf", EdgeInstance.BaseMainCf(directory) + $$"""

            relay_domains = store.example
            transport_maps = inline:{ store.example=lmtp:{{nexthop}} }
            """ + "\n");
        // No smtp transport: the bounce to sender@example.org stays queued.
        directory.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            lmtp      unix  -       -       n       -       -       lmtp
            """);
        return directory;
    }

    private static async Task DeliversThroughTheQueueAsync(Dovecot dovecot, string nexthop, string relay)
    {
        using var config = Config(nexthop);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var c = await SmtpConnection.OpenAsync(edge.Port))
        {
            await c.CommandAsync("EHLO client.example");
            await c.CommandAsync("MAIL FROM:<sender@example.org>");
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<alice@store.example>"));
            Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<nobody@store.example>"));
            await c.CommandAsync("DATA");
            string id = (await c.CommandAsync("Subject: to the store\r\n\r\n..dotted\r\nbody\r\n.")).Split(' ')[^1];

            await edge.WaitForLogAsync($@"edge/lmtp\[\d+\]: {id}: to=<alice@store\.example>, relay={relay}, .*dsn=2\.0\.0, status=sent \(250 2\.0\.0 <alice@store\.example> \S+ Saved\)");
            await edge.WaitForLogAsync($@"edge/lmtp\[\d+\]: {id}: to=<nobody@store\.example>, relay={relay}, .*dsn=5\.1\.1, status=bounced");
            await edge.WaitForLogAsync($@"{id}: sender non-delivery notification: \w+");
            await edge.WaitForLogAsync($@"{id}: removed");
        }
        string stored = Assert.Single(dovecot.Mailbox("alice"));
        Assert.Contains("Subject: to the store", stored);
        Assert.Contains("\n.dotted\nbody", stored.Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task Over_tcp()
    {
        await using var dovecot = await Dovecot.StartAsync();
        await DeliversThroughTheQueueAsync(dovecot, $"inet:127.0.0.1:{dovecot.Port}", $@"127\.0\.0\.1\[127\.0\.0\.1\]:{dovecot.Port}");
    }

    [Fact]
    public async Task Over_a_unix_socket()
    {
        await using var dovecot = await Dovecot.StartAsync();
        await DeliversThroughTheQueueAsync(dovecot, $"unix:{dovecot.UnixSocket}", $@"localhost\[{System.Text.RegularExpressions.Regex.Escape(dovecot.UnixSocket)}\]");
    }
}
