using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>
/// Routed addresses from a client that may relay: "user%host@local.domain" and "host!user@local.domain" are
/// delivered to user@host, as Postfix's resolver takes them apart and its queue manager updates the recipient.
/// </summary>
public class RoutedAddressTests
{
    [Fact]
    public async Task A_percent_or_bang_address_in_a_local_domain_goes_to_the_inner_address()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + """

            mynetworks = 127.0.0.0/8
            transport_maps = inline:{ remote.example=discard: }
            """ + "\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            discard   unix  -       -       n       -       -       discard
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: routed\r\n\r\nbody",
            "alice%remote.example@edge.test", "remote.example!bob@localhost", "carol%localhost@edge.test");
        await edge.WaitForLogAsync($@"{id}: to=<alice@remote\.example>, orig_to=<alice%remote\.example@edge\.test>, relay=none, .*status=sent");
        await edge.WaitForLogAsync($@"{id}: to=<bob@remote\.example>, orig_to=<remote\.example!bob@localhost>, relay=none, .*status=sent");
        // Nothing left but a local domain: the user in the last local domain, delivered locally.
        await edge.WaitForLogAsync($@"{id}: to=<carol@localhost>, orig_to=<carol%localhost@edge\.test>, .*status=deferred \(mail transport unavailable\)");
    }
}
