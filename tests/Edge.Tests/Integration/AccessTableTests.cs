using Edge.Config;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// Restriction lists with access tables (access(5)) over a real socket: what each stage's table answers
/// becomes the reply at RCPT TO, in Postfix's words.
/// </summary>
public class AccessTableTests
{
    private const string Xclient = "smtpd_authorized_xclient_hosts = 127.0.0.0/8\nmynetworks = 127.0.0.0/8";

    private static async Task<EdgeInstance> StartAsync(TempDirectory directory, string mainCf, params (string Name, string Text)[] tables)
    {
        foreach ((string name, string text) in tables)
        {
            directory.Write(name, text);
        }
        return await EdgeInstance.StartAsync(mainCf.Replace("$DIR", directory.Path), reuse: directory);
    }

    private static async Task<string> RcptAsync(EdgeInstance edge, string sender, string recipient = "postmaster@localhost",
        string helo = "client.example", string? xclient = null)
    {
        await using var c = await edge.ConnectAsync();
        if (xclient is not null)
        {
            await c.CommandAsync("EHLO proxy.example");
            Assert.StartsWith("220 ", await c.CommandAsync("XCLIENT " + xclient));
        }
        await c.CommandAsync($"EHLO {helo}");
        Assert.StartsWith("250 ", await c.CommandAsync($"MAIL FROM:<{sender}>"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    [Theory]
    [InlineData("spammer@bad.example", "554 5.7.1 <spammer@bad.example>: Sender address rejected: No thanks")]
    [InlineData("anyone@bad.example", "550 5.7.2 <anyone@bad.example>: Sender address rejected: Go away")]
    [InlineData("anyone@deep.sub.bad.example", "550 5.7.2 <anyone@deep.sub.bad.example>: Sender address rejected: Go away")]
    [InlineData("", "554 5.7.1 <>: Sender address rejected: Access denied")]
    [InlineData("friend@bad.example", "550 5.7.2 <friend@bad.example>: Sender address rejected: Go away")]
    [InlineData("friend@good.example", "250 2.1.5 Ok")]
    [InlineData("someone@good.example", "553 5.7.1 <someone@good.example>: Sender address rejected: Access denied")]
    [InlineData("later@slow.example", "450 4.7.1 <later@slow.example>: Sender address rejected: Access denied")]
    public async Task Sender_access_tries_the_address_its_domains_and_its_local_part(string sender, string reply)
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory, "reject_code = 553\nsmtpd_sender_restrictions = check_sender_access hash:$DIR/sender_access, reject",
            ("sender_access", """
                # whole addresses win over domains, domains over local parts
                spammer@bad.example  REJECT No thanks
                bad.example          550 5.7.2 Go away
                friend@              OK
                <>                   REJECT
                slow.example         DEFER
                """));
        Assert.Equal(reply, await RcptAsync(edge, sender));
    }

    [Theory]
    [InlineData("NAME=mail.bad.example ADDR=198.51.100.9", "554 5.7.1 <mail.bad.example[198.51.100.9]>: Client host rejected: Access denied")]
    [InlineData("NAME=[UNAVAILABLE] ADDR=203.0.113.7", "450 4.7.1 <unknown[203.0.113.7]>: Client host rejected: try later")]
    [InlineData("NAME=[UNAVAILABLE] ADDR=IPV6:2001:db8::25", "554 5.7.1 <unknown[2001:db8::25]>: Client host rejected: no IPv6 from there")]
    [InlineData("NAME=[UNAVAILABLE] ADDR=192.0.2.1", "250 2.1.5 Ok")]
    public async Task Client_access_by_cidr_sees_the_address_xclient_gave(string xclient, string reply)
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory, Xclient + "\nsmtpd_client_restrictions = check_client_access cidr:$DIR/clients",
            ("clients", """
                203.0.113.7       DEFER try later
                198.51.100.0/24   REJECT
                2001:db8::/32     REJECT no IPv6 from there
                """));
        Assert.Equal(reply, await RcptAsync(edge, "a@example.org", xclient: xclient));
    }

    [Theory]
    [InlineData("192.0.2.1", "550 5.7.1 <192.0.2.1>: Helo command rejected: Bare IP address 192.0.2.1 as HELO")]
    [InlineData("host-7.DYNAMIC.example", "554 5.7.1 <host-7.DYNAMIC.example>: Helo command rejected: dynamic host")]
    [InlineData("nodots", "504 5.5.2 <nodots>: Helo command rejected: HELO needs a domain")]
    [InlineData("mail.client.example", "250 2.1.5 Ok")]
    public async Task Helo_access_by_regexp(string helo, string reply)
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory, "smtpd_helo_restrictions = check_helo_access regexp:$DIR/helo",
            ("helo", """
                /^([[:digit:]]+(\.[[:digit:]]+){3})$/  550 Bare IP address $1 as HELO
                if /\.example$/
                /\.dynamic\./                          REJECT dynamic host
                endif
                !/\./                                  504 5.5.2 HELO needs a domain
                """));
        Assert.Equal(reply, await RcptAsync(edge, "a@example.org", helo: helo));
    }

    [Theory]
    [InlineData("vip@edge.test", "250 2.1.5 Ok")]
    [InlineData("other@edge.test", "554 5.7.1 <other@edge.test>: Recipient address rejected: Access denied")]
    [InlineData("list@edge.test", "250 2.1.5 Ok")]
    [InlineData("closed@edge.test", "554 5.7.1 <closed@edge.test>: Recipient address rejected: Access denied")]
    [InlineData("filtered@edge.test", "554 5.7.1 <filtered@edge.test>: Recipient address rejected: Access denied")]
    public async Task Recipient_access_results_can_be_ok_dunno_or_restrictions(string recipient, string reply)
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory,
            "mynetworks = 127.0.0.0/8\nsmtpd_recipient_restrictions = check_recipient_access texthash:$DIR/rcpt, reject",
            ("rcpt", """
                vip@edge.test     OK
                list@edge.test    permit_mynetworks, reject
                closed@edge.test  reject_unauth_destination, reject
                filtered@edge.test FILTER amavis:[127.0.0.1]:10024
                edge.test         DUNNO
                """));
        Assert.Equal(reply, await RcptAsync(edge, "a@example.org", recipient));
    }

    [Fact]
    public async Task A_permit_ends_its_own_list_only()
    {
        await using var edge = await EdgeInstance.StartAsync("mynetworks = 127.0.0.0/8\nsmtpd_client_restrictions = permit_mynetworks, reject\n"
            + "smtpd_sender_restrictions = check_sender_access inline:{ bad@example.org=REJECT }");
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "good@example.org"));
        Assert.Equal("554 5.7.1 <bad@example.org>: Sender address rejected: Access denied", await RcptAsync(edge, "bad@example.org"));
    }

    [Fact]
    public async Task Reject_and_defer_codes_come_from_main_cf()
    {
        await using var edge = await EdgeInstance.StartAsync("access_map_reject_code = 550\nreject_code = 553\n"
            + "smtpd_sender_restrictions = check_sender_access inline:{ bad@example.org=REJECT, good@example.net=OK }, reject");
        Assert.Equal("550 5.7.1 <bad@example.org>: Sender address rejected: Access denied", await RcptAsync(edge, "bad@example.org"));
        Assert.Equal("553 5.7.1 <x@example.net>: Sender address rejected: Access denied", await RcptAsync(edge, "x@example.net"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "good@example.net"));
    }

    [Theory]
    [InlineData("smtpd_sender_restrictions = reject_everything", "smtpd_sender_restrictions: restriction \"reject_everything\" is not supported yet")]
    [InlineData("smtpd_sender_restrictions = check_sender_access", "\"check_sender_access\" needs a type:name table after it")]
    [InlineData("smtpd_client_restrictions = check_client_access texthash:/nonexistent/access", "/nonexistent/access")]
    [InlineData("smtpd_client_restrictions = check_client_access nisplus:access", "table type \"nisplus\" is not supported yet")]
    [InlineData("smtpd_client_restrictions = check_client_access ldap:/nonexistent/ldap-access.cf", "/nonexistent/ldap-access.cf: cannot read")]
    public async Task Bad_restriction_settings_stop_start_up_naming_the_line(string line, string message)
    {
        using var directory = new TempDirectory();
        var e = await Assert.ThrowsAsync<ConfigException>(() => EdgeInstance.StartAsync(line, reuse: directory));
        Assert.Contains("main.cf, line 6: parameter ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task A_bad_regexp_table_names_its_file_and_line()
    {
        using var directory = new TempDirectory();
        var e = await Assert.ThrowsAsync<ConfigException>(() => StartAsync(directory,
            "smtpd_helo_restrictions = check_helo_access regexp:$DIR/helo", ("helo", "/ok/ OK\n\n/unclosed(/ REJECT\n")));
        Assert.Contains($"{directory.File("helo")}, line 3: bad regular expression", e.Message);
    }

    /// <summary>
    /// FILTER is saved with Postfix's log line (a FILTER without transport:destination is a warning and nothing else);
    /// INFO and WARN log Postfix's line and go on.
    /// </summary>
    [Fact]
    public async Task Filter_and_info_are_logged_as_postfix_logs_them()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + """

            smtpd_sender_restrictions = check_sender_access inline:{ { held@example.org = FILTER amavis:[127.0.0.1]:10024 }, { bad@example.org = FILTER nowhere }, { noted@example.org = INFO looked at } }
            """ + "\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        foreach (string sender in new[] { "held@example.org", "bad@example.org", "noted@example.org" })
        {
            await using var c = await SmtpConnection.OpenAsync(edge.Port);
            await c.EnvelopeAsync(sender, "postmaster@localhost");
        }
        await edge.WaitForLogAsync(@"NOQUEUE: filter: RCPT from localhost\[127\.0\.0\.1\]: <held@example\.org>: Sender address triggers FILTER amavis:\[127\.0\.0\.1\]:10024; from=<held@example\.org> to=<postmaster@localhost> proto=ESMTP helo=<client\.example>");
        await edge.WaitForLogAsync(@"warning: access table entry ""FILTER nowhere"" requires transport:destination");
        await edge.WaitForLogAsync(@"NOQUEUE: info: RCPT from localhost\[127\.0\.0\.1\]: looked at; from=<noted@example\.org> to=<postmaster@localhost> proto=ESMTP helo=<client\.example>");
    }

    /// <summary>
    /// HOLD, DISCARD, FILTER, REDIRECT and BCC from an access table concern the whole message: saved at RCPT TO, carried
    /// out when the data ends, as Postfix's smtpd hands them to cleanup.
    /// </summary>
    [Fact]
    public async Task Hold_discard_filter_redirect_and_bcc_from_an_access_table_act_on_the_message()
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory, """
            smtpd_recipient_restrictions = check_recipient_access inline:{ held@edge.test=HOLD, gone@edge.test=DISCARD, { scanned@edge.test = FILTER amavis:[127.0.0.1]:10024 }, { moved@edge.test = REDIRECT new@edge.test }, { copied@edge.test = BCC archive@edge.test } }
            """);
        async Task<string> SendAsync(string recipient)
        {
            await using var c = await edge.ConnectAsync();
            await c.EnvelopeAsync("a@example.org", recipient);
            await c.CommandAsync("DATA");
            return (await c.CommandAsync("Subject: x\r\n\r\nbody\r\n.")).Split(' ')[^1];
        }
        string held = await SendAsync("held@edge.test");
        Assert.True(edge.Queue.Entries.Single(e => e.Id.ToString() == held).Hold);
        string gone = await SendAsync("gone@edge.test");
        Assert.DoesNotContain(edge.Queue.Entries, e => e.Id.ToString() == gone);
        string scanned = await SendAsync("scanned@edge.test");
        Assert.Equal("amavis:[127.0.0.1]:10024", edge.Queue.Entries.Single(e => e.Id.ToString() == scanned).Filter);
        string moved = await SendAsync("moved@edge.test");
        Assert.Equal(["new@edge.test"], (await edge.QueuedAsync()).Single(m => m.Id.ToString() == moved).Recipients.Select(r => r.Address));
        string copied = await SendAsync("copied@edge.test");
        Assert.Equal(["copied@edge.test", "archive@edge.test"], (await edge.QueuedAsync()).Single(m => m.Id.ToString() == copied).Recipients.Select(r => r.Address));
    }
}
