using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// smtpd_reject_unlisted_recipient (on by default, as in Postfix): mail for a user that no table of the
/// recipient's address class names is refused at RCPT TO, so it never becomes a bounce to a forged sender.
/// </summary>
public class RecipientValidationTests
{
    /// <summary>Postfix's default local_recipient_maps (the password file, then alias_maps) over an alias file of the test's own.</summary>
    private static async Task<EdgeInstance> StartAsync(string mainCf = "")
    {
        var directory = new TempDirectory();
        directory.Write("aliases", "# aliases(5)\nsales: root\nhelp-desk: sales, root@example.org\n");
        return await EdgeInstance.StartAsync($"""
            local_recipient_maps = proxy:unix:passwd.byname $alias_maps
            alias_maps = hash:{directory.File("aliases")}
            recipient_delimiter = +
            virtual_mailbox_domains = hosted.example
            virtual_mailbox_maps = inline:{"{"} alice@hosted.example=hosted.example/alice/ {"}"}
            virtual_alias_domains = alias.example
            virtual_alias_maps = inline:{"{"} info@alias.example=root@edge.test {"}"}
            relay_domains = relay.example, open.example
            {mainCf}
            """, reuse: directory, disposeDirectory: true);
    }

    private static async Task<string> RcptAsync(EdgeInstance edge, string recipient, string sender = "sender@example.org")
    {
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.example"));
        Assert.StartsWith("250 ", await c.CommandAsync($"MAIL FROM:<{sender}>"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    [Theory]
    [InlineData("nosuchuser@edge.test", "550 5.1.1 <nosuchuser@edge.test>: Recipient address rejected: User unknown in local recipient table")]
    [InlineData("nosuchuser+tag@localhost", "550 5.1.1 <nosuchuser+tag@localhost>: Recipient address rejected: User unknown in local recipient table")]
    [InlineData("root@edge.test", "250 2.1.5 Ok")]
    [InlineData("Root+folder@edge.test", "250 2.1.5 Ok")]
    [InlineData("sales@edge.test", "250 2.1.5 Ok")]
    [InlineData("help-desk+x@localhost", "250 2.1.5 Ok")]
    [InlineData("postmaster@edge.test", "250 2.1.5 Ok")]
    [InlineData("MAILER-DAEMON@edge.test", "250 2.1.5 Ok")]
    [InlineData("carol@hosted.example", "550 5.1.1 <carol@hosted.example>: Recipient address rejected: User unknown in virtual mailbox table")]
    [InlineData("alice@hosted.example", "250 2.1.5 Ok")]
    [InlineData("sales@alias.example", "550 5.1.1 <sales@alias.example>: Recipient address rejected: User unknown in virtual alias table")]
    [InlineData("info@alias.example", "250 2.1.5 Ok")]
    [InlineData("anyone@open.example", "250 2.1.5 Ok")]
    public async Task Unknown_users_are_refused_even_from_mynetworks(string recipient, string reply)
    {
        await using var edge = await StartAsync();
        Assert.Equal(reply, await RcptAsync(edge, recipient));
    }

    [Fact]
    public async Task Relay_recipient_maps_list_the_users_of_relay_domains()
    {
        await using var edge = await StartAsync("relay_recipient_maps = inline:{ known@relay.example=x, @open.example=x }");
        Assert.Equal("550 5.1.1 <unknown@relay.example>: Recipient address rejected: User unknown in relay recipient table",
            await RcptAsync(edge, "unknown@relay.example"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "known@relay.example"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "anyone@open.example"));
    }

    [Fact]
    public async Task Reply_code_and_table_name_follow_their_settings()
    {
        await using var edge = await StartAsync("unknown_local_recipient_reject_code = 450\nshow_user_unknown_table_name = no");
        Assert.Equal("450 4.1.1 <nosuchuser@edge.test>: Recipient address rejected: User unknown", await RcptAsync(edge, "nosuchuser@edge.test"));
    }

    [Fact]
    public async Task Turned_off_only_an_explicit_reject_unlisted_recipient_checks()
    {
        await using var off = await StartAsync("smtpd_reject_unlisted_recipient = no");
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(off, "nosuchuser@edge.test"));

        await using var explicitly = await StartAsync("""
            smtpd_reject_unlisted_recipient = no
            smtpd_recipient_restrictions = reject_unlisted_recipient
            """);
        Assert.Equal("550 5.1.1 <nosuchuser@edge.test>: Recipient address rejected: User unknown in local recipient table",
            await RcptAsync(explicitly, "nosuchuser@edge.test"));
    }

    [Fact]
    public async Task An_empty_local_recipient_maps_accepts_every_local_name()
    {
        await using var edge = await StartAsync("local_recipient_maps =");
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "nosuchuser@edge.test"));
    }

    [Fact]
    public async Task Unlisted_senders_of_local_domains_are_refused_when_asked()
    {
        await using var edge = await StartAsync("smtpd_reject_unlisted_sender = yes");
        Assert.Equal("550 5.1.0 <forged@edge.test>: Sender address rejected: User unknown in local recipient table",
            await RcptAsync(edge, "root@edge.test", sender: "forged@edge.test"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "root@edge.test", sender: "root@edge.test"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "root@edge.test", sender: ""));
    }

    [Fact]
    public async Task A_table_that_cannot_be_read_defers_the_lookups_that_reach_it()
    {
        // As Postfix (the corpus's missing-tables case): each key is asked of every table in turn, so only what a table
        // before the missing one answers at once is known; root's full address reaches the missing alias table first.
        await using var edge = await StartAsync("""
            alias_maps = hash:/nonexistent/aliases
            local_recipient_maps = inline:{ postmaster@edge.test=x } proxy:unix:passwd.byname $alias_maps
            """);
        Assert.Equal("451 4.3.0 <nosuchuser@edge.test>: Temporary lookup failure",
            await RcptAsync(edge, "nosuchuser@edge.test"));
        Assert.Equal("451 4.3.0 <root@edge.test>: Temporary lookup failure", await RcptAsync(edge, "root@edge.test"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "postmaster@edge.test"));
    }

    [Fact]
    public async Task Postfixs_default_nis_alias_table_is_empty_on_a_machine_without_nis()
    {
        await using var edge = await StartAsync("alias_maps = nis:mail.aliases");
        Assert.Equal("550 5.1.1 <nosuchuser@edge.test>: Recipient address rejected: User unknown in local recipient table",
            await RcptAsync(edge, "nosuchuser@edge.test"));
    }
}
