using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// Address rewriting that shows in what is queued and delivered (the Postfix comparison corpus holds the finer
/// cases: canonical.case, header-rewriting*.case, rewriting.case).
/// </summary>
public class HeaderRewritingTests
{
    /// <summary>
    /// By default (local_header_rewrite_clients = permit_inet_interfaces) a client on one of this host's addresses is
    /// local: its unqualified header addresses get @$myorigin and the headers it left out are added, as Postfix does
    /// for mail submitted on the machine itself.
    /// </summary>
    [Fact]
    public async Task A_local_clients_headers_are_qualified_and_completed()
    {
        await using var edge = await EdgeInstance.StartAsync("local_header_rewrite_clients = permit_inet_interfaces");
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync("To: bob, Carol <carol>\r\nSubject: local\r\n\r\nbody\r\n", bdat: false));
        string id = Assert.Single(await edge.QueuedAsync()).Id.ToString();
        Assert.Matches($"\r\nTo: bob@mx\\.edge\\.test, Carol <carol@mx\\.edge\\.test>\r\nSubject: local\r\nMessage-Id: <{id}@mx\\.edge\\.test>\r\n" +
            @"Date: \w{3}, [ \d]\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000 \(UTC\)" + "\r\nFrom: sender@example\\.org\r\n\r\nbody\r\n$",
            await edge.SingleMessageContentAsync());
    }

    /// <summary>A canonical table that cannot be read keeps the message out, for a header address as for the envelope.</summary>
    [Fact]
    public async Task A_canonical_table_that_cannot_be_read_defers_the_message()
    {
        await using var edge = await EdgeInstance.StartAsync("local_header_rewrite_clients = permit_inet_interfaces\n" +
            "canonical_maps = texthash:/nonexistent/canonical\ncanonical_classes = header_recipient");
        Assert.Equal("451 4.3.0 Error: queue file write error", await edge.SendAsync("To: bob@edge.test\r\nSubject: x\r\n\r\nbody\r\n", bdat: false));
        Assert.Empty(await edge.QueuedAsync());
    }

    /// <summary>
    /// A table entry that holds no address is a lookup failure, as Postfix's mail_addr_map() makes it: the message is
    /// deferred, never dropped and never a broken session.
    /// </summary>
    [Theory]
    [InlineData("canonical_maps", "451 4.3.0 Error: queue file write error")]
    [InlineData("virtual_alias_maps", "451 4.3.0 Error: virtual alias expansion failed, try again later")]
    public async Task A_table_entry_without_an_address_defers_the_message(string parameter, string reply)
    {
        using var directory = new TempDirectory();
        directory.Write("map", "bob@edge.test ,\n");
        await using var edge = await EdgeInstance.StartAsync($"{parameter} = texthash:{directory.File("map")}", reuse: directory);
        Assert.Equal(reply, await edge.SendAsync("Subject: x\r\n\r\nbody\r\n", bdat: false, "bob@edge.test"));
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task A_remote_clients_headers_are_left_alone()
    {
        await using var edge = await EdgeInstance.StartAsync("canonical_maps = inline:{ bob@mx.edge.test=robert@edge.test }");
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync("To: bob\r\nSubject: remote\r\n\r\nbody\r\n", bdat: false));
        Assert.EndsWith(")\r\nTo: bob\r\nSubject: remote\r\n\r\nbody\r\n", await edge.SingleMessageContentAsync());
    }

    /// <summary>
    /// relocated_maps at delivery: an address the client could give (a virtual alias) that expands to a relocated user
    /// is accepted, and the queue manager bounces that recipient with Postfix's 5.1.6 text.
    /// </summary>
    [Fact]
    public async Task A_relocated_user_reached_through_an_alias_bounces_with_the_new_address()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + """

            virtual_alias_maps = inline:{ info@edge.test=moved@edge.test }
            relocated_maps = inline:{ moved@edge.test=moved@new.example }
            """ + "\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            error     unix  -       -       n       -       -       error
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: moved\r\n\r\nbody", "info@edge.test");
        await edge.WaitForLogAsync($@"{id}: to=<moved@edge\.test>, orig_to=<info@edge\.test>, relay=none, .*dsn=5\.1\.6, status=bounced \(User has moved to moved@new\.example\)");
    }
}
