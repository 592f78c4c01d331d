using Edge.Queue;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// header_checks and body_checks (header_checks(5)) through real SMTP sessions: each action, for DATA and BDAT, with
/// pcre: and regexp: tables; what a rule decides is what the client hears and what the queue holds.
/// </summary>
public class ContentCheckTests
{
    private const string Rules = """
        /^Subject:.*viagra/                REJECT
        /^Subject:.*later/                 REJECT 4.7.1 try again later
        /^Subject: folded\n\tsecond line/  REJECT 5.7.9 folded header matched whole
        /^X-Drop:/                         IGNORE
        /^X-Strip:/                        STRIP stripped it
        /^X-Old: (.*)/                     REPLACE X-New: $1
        /^X-Mark:/                         PREPEND X-Marked: yes
        /^X-Warn:/                         WARN looked suspicious
        /^X-Hold:/                         HOLD held for review
        /^X-Discard:/                      DISCARD thrown away
        /^X-Redirect:/                     REDIRECT quarantine@edge.test
        /^X-Bcc:/                          BCC archive@edge.test
        /^X-Filter:/                       FILTER amavis:[127.0.0.1]:10024
        /^X-Dunno:/                        DUNNO
        /^X-Info:/                         INFO noted
        /^X-Pass:/                         PASS trusted sender
        /^X-Ok:/                           OK
        """;

    private const string BodyRules = """
        /forbidden phrase/                 REJECT
        /^secret: (.*)/                    REPLACE secret: [removed]
        /^tag me/                          PREPEND tagged-line
        """;

    private static async Task<EdgeInstance> StartAsync(TempDirectory directory, string extra = "")
    {
        directory.Write("header_checks", Rules);
        directory.Write("body_checks", BodyRules);
        return await EdgeInstance.StartAsync($"header_checks = pcre:{directory.File("header_checks")}\n" +
            $"body_checks = regexp:{directory.File("body_checks")}\n{extra}", reuse: directory);
    }

    private static async Task<string> StoredAsync(EdgeInstance edge, QueuedMessage message)
    {
        using var content = new MemoryStream();
        await edge.Queue.CopyContentAsync(message, content);
        return System.Text.Encoding.UTF8.GetString(content.ToArray());
    }

    [Theory]
    [InlineData(false, "Subject: cheap viagra\r\n\r\nbody\r\n", "550 5.7.1 message content rejected")]
    [InlineData(true, "Subject: cheap viagra\r\n\r\nbody\r\n", "550 5.7.1 message content rejected")]
    [InlineData(false, "Subject: see you later\r\n\r\nbody\r\n", "451 4.7.1 try again later")]
    [InlineData(true, "Subject: folded\r\n\tsecond line\r\n\r\nbody\r\n", "550 5.7.9 folded header matched whole")]
    [InlineData(false, "Subject: fine\r\n\r\nthis has a forbidden phrase in it\r\n", "550 5.7.1 message content rejected")]
    [InlineData(true, "Subject: fine\r\n\r\nthis has a forbidden phrase in it\r\n", "550 5.7.1 message content rejected")]
    public async Task A_rejecting_rule_answers_at_the_end_of_the_data_and_nothing_is_queued(bool bdat, string content, string reply)
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory);
        Assert.Equal(reply, await edge.SendAsync(content, bdat));
        Assert.Empty(await edge.QueuedAsync());
        // The session goes on: the next message is taken.
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync("Subject: clean\r\n\r\nbody\r\n", bdat));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Lines_are_dropped_replaced_and_prepended_as_the_rules_say(bool bdat)
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory);
        string content = "Subject: fine\r\nX-Drop: gone\r\nX-Strip: gone too\r\n\tcontinued\r\nX-Old: value 1\r\nX-Mark: here\r\n" +
            "X-Warn: x\r\nX-Dunno: stays\r\n\r\nfirst line\r\nsecret: 1234\r\ntag me please\r\nlast line\r\n";
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync(content, bdat));
        string stored = await edge.SingleMessageContentAsync();
        Assert.DoesNotContain("X-Drop", stored);
        Assert.DoesNotContain("X-Strip", stored);
        Assert.DoesNotContain("continued", stored);
        Assert.DoesNotContain("X-Old", stored);
        Assert.Contains("\r\nX-New: value 1\r\nX-Marked: yes\r\nX-Mark: here\r\nX-Warn: x\r\nX-Dunno: stays\r\n\r\nfirst line\r\n" +
            "secret: [removed]\r\ntagged-line\r\ntag me please\r\nlast line\r\n", stored);
    }

    /// <summary>PASS ends the checks for the message (a later forbidden body line passes); OK, INFO and DUNNO go on.</summary>
    [Theory]
    [InlineData("X-Pass: yes", "250 2.0.0 Ok")]
    [InlineData("X-Ok: yes", "550 5.7.1 message content rejected")]
    [InlineData("X-Info: yes", "550 5.7.1 message content rejected")]
    [InlineData("X-Dunno: yes", "550 5.7.1 message content rejected")]
    public async Task Pass_ends_the_checks_and_the_others_go_on(string header, string reply)
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory);
        Assert.StartsWith(reply, await edge.SendAsync($"Subject: x\r\n{header}\r\n\r\na forbidden phrase\r\n", bdat: false));
        Assert.Equal(reply.StartsWith('2') ? 1 : 0, (await edge.QueuedAsync()).Count);
    }

    [Fact]
    public async Task Hold_queues_the_message_on_hold_across_a_restart()
    {
        using var directory = new TempDirectory();
        var edge = await StartAsync(directory);
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await edge.SendAsync("Subject: x\r\nX-Hold: yes\r\n\r\nbody\r\n", bdat: false));
        Assert.True(Assert.Single(edge.Queue.Entries).Hold);
        await using var restarted = await edge.RestartAsync();
        Assert.True(Assert.Single(restarted.Queue.Entries).Hold);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Discard_claims_the_message_and_keeps_nothing(bool bdat)
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory);
        Assert.StartsWith(bdat ? "250 2.0.0 Ok: " : "250 2.0.0 Ok: queued as ", await edge.SendAsync("Subject: x\r\nX-Discard: yes\r\n\r\nbody\r\n", bdat));
        Assert.Empty(await edge.QueuedAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Filter_queues_the_message_for_its_content_filter(bool bdat)
    {
        using var directory = new TempDirectory();
        var edge = await StartAsync(directory);
        Assert.StartsWith("250", await edge.SendAsync("Subject: x\r\nX-Filter: yes\r\n\r\nbody\r\n", bdat));
        Assert.Equal("amavis:[127.0.0.1]:10024", Assert.Single(edge.Queue.Entries).Filter);
        await using var restarted = await edge.RestartAsync();
        Assert.Equal("amavis:[127.0.0.1]:10024", Assert.Single(restarted.Queue.Entries).Filter);
    }

    [Fact]
    public async Task Redirect_replaces_the_recipients_and_bcc_adds_one()
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory);
        Assert.StartsWith("250", await edge.SendAsync("Subject: x\r\nX-Redirect: yes\r\n\r\nbody\r\n", bdat: false));
        Assert.Equal(["quarantine@edge.test"], Assert.Single(await edge.QueuedAsync()).Recipients.Select(r => r.Address));
    }

    [Fact]
    public async Task Bcc_adds_a_recipient_that_the_sender_never_hears_of()
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory);
        Assert.StartsWith("250", await edge.SendAsync("Subject: x\r\nX-Bcc: yes\r\n\r\nbody\r\n", bdat: true));
        QueuedMessage message = Assert.Single(await edge.QueuedAsync());
        Assert.Equal(["user@edge.test", "archive@edge.test"], message.Recipients.Select(r => r.Address));
        Assert.Equal(Edge.Mail.DsnNotify.Never, message.Recipients[1].Notify);
    }

    /// <summary>
    /// MIME: the headers of parts go to mime_header_checks, those of an attached message to nested_header_checks,
    /// the message's own to header_checks; body_checks see body lines, not part headers, and only the first
    /// body_checks_size_limit bytes of each part.
    /// </summary>
    [Fact]
    public async Task Each_header_class_has_its_own_checks_and_body_checks_stop_at_the_size_limit()
    {
        using var directory = new TempDirectory();
        directory.Write("primary", "/^X-Where:/ REPLACE X-Where: primary\n");
        directory.Write("mime", "/^X-Where:/ REPLACE X-Where: part\n/^Content-Type: text\\/plain; name=\"bad\\.exe\"/ REJECT 5.7.2 no executables\n");
        directory.Write("nested", "/^X-Where:/ REPLACE X-Where: attached\n");
        directory.Write("body", "/^X-Where:/ REJECT 5.7.3 a part header reached body_checks\n/^late marker/ REJECT 5.7.4 checked past the limit\n");
        await using var edge = await EdgeInstance.StartAsync($"header_checks = regexp:{directory.File("primary")}\n" +
            $"mime_header_checks = regexp:{directory.File("mime")}\nnested_header_checks = regexp:{directory.File("nested")}\n" +
            $"body_checks = regexp:{directory.File("body")}\nbody_checks_size_limit = 200", reuse: directory);
        string filler = string.Concat(Enumerable.Repeat("filler line of text\r\n", 20));
        string content = "Subject: mime\r\nX-Where: ?\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
            "preamble\r\n--b1\r\nContent-Type: text/plain\r\nX-Where: ?\r\n\r\n" + filler + "late marker\r\n" +
            "--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nX-Where: ?\r\n\r\ninner body\r\n--b1--\r\nepilogue\r\n";
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync(content, bdat: false));
        string stored = await edge.SingleMessageContentAsync();
        Assert.Contains("\r\nX-Where: primary\r\n", stored);
        Assert.Contains("\r\nX-Where: part\r\n", stored);
        Assert.Contains("\r\nX-Where: attached\r\n", stored);
        Assert.DoesNotContain("X-Where: ?", stored);

        string attachment = "Subject: mime\r\nContent-Type: multipart/mixed; boundary=b2\r\n\r\n--b2\r\n" +
            "Content-Type: text/plain; name=\"bad.exe\"\r\n\r\nMZ\r\n--b2--\r\n";
        Assert.Equal("550 5.7.2 no executables", await edge.SendAsync(attachment, bdat: true));
    }

    [Fact]
    public async Task A_table_that_cannot_be_opened_stops_start_up()
    {
        using var directory = new TempDirectory();
        var e = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() =>
            EdgeInstance.StartAsync($"header_checks = pcre:{directory.File("missing")}", reuse: directory));
        Assert.Contains("parameter header_checks: pcre:", e.Message);
    }

    /// <summary>
    /// receive_override_options on a listener, as behind a content filter: no_header_body_checks, no_address_mappings,
    /// no_unknown_recipient_checks; a word Postfix does not know stops start-up.
    /// </summary>
    [Fact]
    public async Task Receive_override_options_turn_off_checks_mappings_and_unknown_recipient_checks_per_listener()
    {
        using var directory = new TempDirectory();
        string extra = "virtual_alias_maps = inline:{ alias@edge.test=target@edge.test }\nlocal_recipient_maps = inline:{ target@edge.test=1, alias@edge.test=1 }";
        await using (var plain = await StartAsync(directory, extra))
        {
            Assert.Equal("550 5.7.1 message content rejected", await plain.SendAsync("Subject: viagra\r\n\r\nx\r\n", bdat: false, "target@edge.test"));
            Assert.StartsWith("250", await plain.SendAsync("Subject: x\r\n\r\nx\r\n", bdat: false, "alias@edge.test"));
            Assert.Equal(["target@edge.test"], Assert.Single(await plain.QueuedAsync()).Recipients.Select(r => r.Address));
            await using var c = await plain.ConnectAsync();
            await c.CommandAsync("EHLO client.example");
            await c.CommandAsync("MAIL FROM:<a@example.org>");
            Assert.StartsWith("550 5.1.1", await c.CommandAsync("RCPT TO:<nobody@edge.test>"));
        }
        using var other = new TempDirectory();
        other.Write("header_checks", Rules);
        other.Write("body_checks", BodyRules);
        await using var filtered = await EdgeInstance.StartAsync($"header_checks = pcre:{other.File("header_checks")}\n{extra}",
            "-o receive_override_options=no_header_body_checks,no_address_mappings,no_unknown_recipient_checks", reuse: other);
        Assert.StartsWith("250", await filtered.SendAsync("Subject: viagra\r\n\r\nx\r\n", bdat: false, "alias@edge.test"));
        Assert.StartsWith("250", await filtered.SendAsync("Subject: x\r\n\r\nx\r\n", bdat: false, "nobody@edge.test"));
        Assert.Equal(["alias@edge.test", "nobody@edge.test"], (await filtered.QueuedAsync()).Select(m => m.Recipients[0].Address).Order());

        var e = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() => EdgeInstance.StartAsync("receive_override_options = no_everything"));
        Assert.Contains("parameter receive_override_options: unknown option \"no_everything\"", e.Message);
    }
}
