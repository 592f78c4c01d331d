using System.Diagnostics;
using System.Net.Sockets;
using Edge.Queue;
using Edge.Tests.Support;

namespace Edge.Tests.Milter;

/// <summary>
/// smtpd_milters through real SMTP sessions against a scripted filter (<see cref="TestMilter"/>): every stage and
/// macro it sees, every decision and modification it can make, and milter_default_action for a filter that is down,
/// silent or speaks garbage. The real filters (opendkim, rspamd) have tests of their own.
/// </summary>
public class MilterTests
{
    private static Task<EdgeInstance> StartAsync(TestMilter milter, TempDirectory directory, string extra = "") =>
        EdgeInstance.StartAsync($"smtpd_milters = {milter.Endpoint}\n{extra}", reuse: directory);

    [Fact]
    public async Task The_filter_sees_each_stage_with_its_macros_but_not_Edges_own_Received_header()
    {
        await using var milter = new TestMilter();
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(milter, directory);
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync("Subject: hello\r\nX-Folded: one\r\n\ttwo\r\n\r\nbody line\r\n", bdat: false));
        string[] log = milter.Log;
        Assert.Equal("C localhost|4", log[0][..13]);
        Assert.EndsWith("127.0.0.1|", log[0]);
        Assert.Equal(
            ["H client.example|", "M <sender@example.org>|", "R <user@edge.test>|", "T ", "L Subject|hello|",
             "L X-Folded|one\n\ttwo|", "N ", "B body line\r\n", "E "], log[1..]);
        var events = milter.Events.ToArray();
        Assert.Equal("mx.edge.test", events[0].Macros["j"]);
        Assert.Equal("mx.edge.test", events[0].Macros["{daemon_name}"]);
        Assert.Equal("localhost [127.0.0.1]", events[0].Macros["_"]);
        Assert.Equal("sender@example.org", events[2].Macros["{mail_addr}"]);
        Assert.Equal("user@edge.test", events[3].Macros["{rcpt_addr}"]);
        string id = Assert.Single(await edge.QueuedAsync()).Id.ToString();
        Assert.Equal(id, events[^1].Macros["i"]);
    }

    [Theory]
    [InlineData('M', "r", "MAIL", "550 5.7.1 Command rejected")]
    [InlineData('M', "t", "MAIL", "451 4.7.1 Service unavailable - try again later")]
    [InlineData('R', "y550 5.1.1 <user@edge.test>: no such user", "RCPT", "550 5.1.1 <user@edge.test>: no such user")]
    [InlineData('T', "r", "DATA", "550 5.7.1 Command rejected")]
    [InlineData('E', "y554 5.7.1 Looks like spam", "END", "554 5.7.1 Looks like spam")]
    [InlineData('E', "t", "END", "451 4.7.1 Service unavailable - try again later")]
    public async Task A_decision_refuses_the_command_it_answers_and_nothing_is_queued(char stage, string answer, string command, string reply)
    {
        await using var milter = new TestMilter
        {
            Script = (c, _) => c != stage ? null : [answer.Length > 1 ? TestMilter.Packet(answer[0], answer[1..]) : TestMilter.Packet(answer[0])],
        };
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(milter, directory);
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        string mail = await c.CommandAsync("MAIL FROM:<sender@example.org>");
        if (command == "MAIL")
        {
            Assert.Equal(reply, mail);
        }
        else
        {
            Assert.Equal("250 2.1.0 Ok", mail);
            string rcpt = await c.CommandAsync("RCPT TO:<user@edge.test>");
            Assert.Equal(command == "RCPT" ? reply : "250 2.1.5 Ok", rcpt);
            if (command != "RCPT")
            {
                string data = await c.CommandAsync("DATA");
                Assert.Equal(command == "DATA" ? reply : "354 End data with <CR><LF>.<CR><LF>", data);
                if (command == "END")
                {
                    Assert.Equal(reply, await c.CommandAsync("Subject: x\r\n\r\nbody\r\n."));
                }
            }
        }
        Assert.Empty(await edge.QueuedAsync());
        // The session goes on, and the filter starts over for the next transaction.
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
        Assert.Equal(command == "MAIL" ? reply : "250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
    }

    [Fact]
    public async Task A_recipient_the_filter_refuses_leaves_the_others_and_BDAT_gets_the_end_of_message_reply()
    {
        await using var milter = new TestMilter();
        bool spam = false;
        milter.Script = (c, data) =>
        {
            string text = System.Text.Encoding.UTF8.GetString(data);
            spam |= c == 'B' && text.Contains("spam");
            return c == 'R' && text.Contains("bad@") ? [TestMilter.Packet('y', "550 5.1.1 bad recipient")]
                : c == 'E' && spam ? [TestMilter.Packet('y', "550 5.7.1 no spam")] : null;
        };
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(milter, directory);
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("550 5.1.1 bad recipient", await c.CommandAsync("RCPT TO:<bad@edge.test>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<good@edge.test>"));
        Assert.StartsWith("250 2.0.0 Ok", await c.BdatAsync("Subject: fine\r\n\r\nfine\r\n", last: true));
        Assert.Equal(["good@edge.test"], Assert.Single(await edge.QueuedAsync()).Recipients.Select(r => r.Address));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<good@edge.test>"));
        Assert.Equal("550 5.7.1 no spam", await c.BdatAsync("Subject: x\r\n\r\nspam spam\r\n", last: true));
        Assert.Single(await edge.QueuedAsync());
    }

    /// <summary>After XCLIENT the filters hear of the new client as of a new connection, as in Postfix.</summary>
    /// <summary>
    /// SMFIP_RCPT_REJ: a filter that asks for them also hears of the recipients the restrictions refused, with
    /// {rcpt_mailer} "error", {rcpt_host} the status code and {rcpt_addr} the reason, as Postfix's smtpd tells it; the
    /// client still gets the restriction's reply. A filter that did not ask hears only of accepted recipients.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_filter_that_asks_for_refused_recipients_hears_of_them_with_the_error_macros(bool wants)
    {
        await using var milter = new TestMilter { ProtocolFlags = wants ? 1u << 11 : 0 };
        using var directory = new TempDirectory();
        directory.Write("recipients", "/^bad@/ 550 5.1.1 no such person\n");
        await using var edge = await StartAsync(milter, directory, $"smtpd_recipient_restrictions = check_recipient_access regexp:{directory.File("recipients")}");
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.Equal("550 5.1.1 <bad@edge.test>: Recipient address rejected: no such person", await c.CommandAsync("RCPT TO:<bad@edge.test>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<user@edge.test>"));
        var recipients = milter.Events.Where(e => e.Command == 'R').ToArray();
        Assert.Equal(wants ? ["<bad@edge.test>|", "<user@edge.test>|"] : ["<user@edge.test>|"],
            recipients.Select(e => System.Text.Encoding.UTF8.GetString(e.Data).Replace('\0', '|')));
        if (wants)
        {
            Assert.Equal("error", recipients[0].Macros["{rcpt_mailer}"]);
            Assert.Equal("5.1.1", recipients[0].Macros["{rcpt_host}"]);
            Assert.Equal("Recipient address rejected: no such person", recipients[0].Macros["{rcpt_addr}"]);
        }
        Assert.Equal("user@edge.test", recipients[^1].Macros["{rcpt_addr}"]);
        Assert.False(recipients[^1].Macros.ContainsKey("{rcpt_mailer}"));
    }

    /// <summary>
    /// SMFIC_UNKNOWN: a command Edge does not know goes to the filters first; a 4xx answer of theirs is the client's
    /// reply, anything else leaves Edge's own 500 (Postfix's milter_unknown_reply_override).
    /// </summary>
    [Theory]
    [InlineData("y450 4.7.1 slow down", "450 4.7.1 slow down")]
    [InlineData("r", "500 5.5.2 Error: command not recognized")]
    [InlineData("c", "500 5.5.2 Error: command not recognized")]
    public async Task An_unknown_command_goes_to_the_filters_and_only_their_4xx_answer_replaces_the_500(string answer, string reply)
    {
        await using var milter = new TestMilter
        {
            Script = (c, _) => c != 'U' ? null : [answer.Length > 1 ? TestMilter.Packet(answer[0], answer[1..]) : TestMilter.Packet(answer[0])],
        };
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(milter, directory, "milter_unknown_command_macros = {client_addr}");
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal(reply, await c.CommandAsync("FROB the widget"));
        Assert.Equal("U FROB the widget|", milter.Log[^1]);
        Assert.Equal("127.0.0.1", milter.Events.Last().Macros["{client_addr}"]);
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
    }

    [Fact]
    public async Task Xclient_gives_the_filters_a_new_connect_event_with_the_client_it_names()
    {
        await using var milter = new TestMilter();
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(milter, directory, "smtpd_authorized_xclient_hosts = 127.0.0.0/8");
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250-", await c.CommandAsync("EHLO proxy.example"));
        Assert.StartsWith("220 ", await c.CommandAsync("XCLIENT ADDR=192.0.2.7 NAME=mail.example"));
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        string[] connects = [.. milter.Log.Where(l => l.StartsWith("C ", StringComparison.Ordinal))];
        Assert.Equal(2, connects.Length);
        Assert.StartsWith("C mail.example|4", connects[1]);
        Assert.EndsWith("192.0.2.7|", connects[1]);
        Assert.Equal("mail.example [192.0.2.7]", milter.Events.Last(e => e.Command == 'C').Macros["_"]);
    }

    [Fact]
    public async Task A_connection_the_filter_rejects_is_greeted_with_554_and_refused_mail()
    {
        await using var milter = new TestMilter { Script = (c, _) => c == 'C' ? [TestMilter.Packet('r')] : null };
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(milter, directory);
        await using var c = await edge.ConnectAsync(readGreeting: false);
        Assert.Equal("554 mx.edge.test ESMTP not accepting connections", await c.ReadReplyAsync());
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("550 5.7.1 Command rejected", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
    }

    [Fact]
    public async Task The_filter_changes_headers_body_sender_and_recipients_at_the_end_of_the_message()
    {
        await using var milter = new TestMilter
        {
            Script = (c, _) => c != 'E' ? null :
            [
                TestMilter.Packet('h', "X-Added", "at the end"),
                TestMilter.IndexedPacket('i', 0, "X-Top", "first of all"),
                TestMilter.IndexedPacket('m', 1, "Subject", "changed subject"),
                TestMilter.IndexedPacket('m', 1, "X-Remove", ""),
                TestMilter.IndexedPacket('m', 1, "X-Missing", "added because missing"),
                TestMilter.Packet('e', "<new-sender@example.org>"),
                TestMilter.Packet('+', "<added@edge.test>"),
                TestMilter.Packet('-', "<user@edge.test>"),
                [(byte)'b', .. "replaced\nbody\r\n"u8.ToArray()],
                TestMilter.Packet('c'),
            ],
        };
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(milter, directory);
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync("Subject: original\r\nX-Remove: me\r\nX-Keep: me\r\n\r\noriginal body\r\n",
            bdat: false, "user@edge.test", "other@edge.test"));
        QueuedMessage message = Assert.Single(await edge.QueuedAsync());
        Assert.Equal("new-sender@example.org", message.Sender);
        Assert.Equal(["other@edge.test", "added@edge.test"], message.Recipients.Select(r => r.Address));
        string stored = await edge.SingleMessageContentAsync();
        Assert.StartsWith("X-Top: first of all\r\nReceived: from client.example", stored);
        Assert.EndsWith("\r\nSubject: changed subject\r\nX-Keep: me\r\nX-Added: at the end\r\nX-Missing: added because missing\r\n\r\nreplaced\r\nbody\r\n", stored);
        Assert.DoesNotContain("X-Remove", stored);
    }

    /// <summary>A filter's new sender and recipients are rewritten as the client's are: @$myorigin, canonical maps.</summary>
    [Fact]
    public async Task The_filters_new_addresses_are_qualified_and_mapped()
    {
        await using var milter = new TestMilter
        {
            Script = (c, _) => c != 'E' ? null :
                [TestMilter.Packet('e', "<MAILER-DAEMON>"), TestMilter.Packet('+', "<helpdesk>"), TestMilter.Packet('c')],
        };
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(milter, directory, "canonical_maps = inline:{ helpdesk@mx.edge.test=support@edge.test }");
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync("Subject: x\r\n\r\nbody\r\n", bdat: false, "user@edge.test"));
        QueuedMessage message = Assert.Single(await edge.QueuedAsync());
        Assert.Equal("", message.Sender);
        Assert.Equal(["user@edge.test", "support@edge.test"], message.Recipients.Select(r => r.Address));
    }

    /// <summary>
    /// A filter's new recipient mapped by a canonical table, and its new header checked by milter_header_checks, both
    /// answered by a server: asked without holding a thread (edge.table.lookups), and carried out as with files.
    /// </summary>
    [Theory]
    [InlineData("X-Fine", "yes", "250 2.0.0 Ok")]
    [InlineData("X-Spam-Flag", "YES", "550 5.7.1 spam by the filter's verdict")]
    public async Task A_filters_addresses_and_headers_are_checked_by_tables_a_server_answers_without_holding_a_thread(
        string name, string value, string reply)
    {
        await using var milter = new TestMilter
        {
            Script = (c, _) => c != 'E' ? null : [TestMilter.Packet('+', "<helpdesk@edge.test>"), TestMilter.Packet('h', name, value), TestMilter.Packet('c')],
        };
        await using var server = new SocketmapServer
        {
            Answer = request => request switch
            {
                "canonical helpdesk@edge.test" => "OK support@edge.test",
                "headers X-Spam-Flag: YES" => "OK REJECT spam by the filter's verdict",
                _ => "NOTFOUND ",
            },
            Delay = TimeSpan.FromMilliseconds(20),
        };
        using var canonical = new TableLookupMeter($"socketmap:inet:127.0.0.1:{server.Port}:canonical");
        using var headers = new TableLookupMeter($"socketmap:inet:127.0.0.1:{server.Port}:headers");
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(milter, directory, $"""
            canonical_maps = socketmap:inet:127.0.0.1:{server.Port}:canonical
            milter_header_checks = socketmap:inet:127.0.0.1:{server.Port}:headers
            edge_table_cache_time = 0
            """);
        Assert.StartsWith(reply, await edge.SendAsync("Subject: x\r\n\r\nbody\r\n", bdat: false, "user@edge.test"));
        if (reply.StartsWith("250", StringComparison.Ordinal))
        {
            QueuedMessage message = Assert.Single(await edge.QueuedAsync());
            Assert.Equal(["user@edge.test", "support@edge.test"], message.Recipients.Select(r => r.Address));
            Assert.Contains($"\r\n{name}: {value}\r\n", await edge.SingleMessageContentAsync());
        }
        Assert.Contains($"headers {name}: {value}", server.Requests);
        Assert.True(canonical["server"] > 0 && headers["server"] > 0, $"{canonical}; {headers}");
        Assert.Equal(0, canonical["server_blocking"] + headers["server_blocking"]);
    }

    /// <summary>milter_header_checks see the headers filters add: they may refuse the message, keep the header out or hold it.</summary>
    [Theory]
    [InlineData("X-Spam-Flag", "YES", "550 5.7.1 spam by the filter's verdict", null)]
    [InlineData("X-Internal", "secret", "250", "absent")]
    [InlineData("X-Review", "please", "250", "held")]
    [InlineData("X-Fine", "yes", "250", "present")]
    public async Task Milter_header_checks_act_on_the_headers_a_filter_adds(string name, string value, string reply, string? outcome)
    {
        await using var milter = new TestMilter { Script = (c, _) => c == 'E' ? [TestMilter.Packet('h', name, value), TestMilter.Packet('c')] : null };
        using var directory = new TempDirectory();
        directory.Write("milter_header_checks", """
            /^X-Spam-Flag: YES/  REJECT spam by the filter's verdict
            /^X-Internal:/       STRIP
            /^X-Review:/         HOLD
            /^X-Fine:/           PREPEND X-Not: allowed here
            """);
        await using var edge = await StartAsync(milter, directory, $"milter_header_checks = regexp:{directory.File("milter_header_checks")}");
        Assert.StartsWith(reply, await edge.SendAsync("Subject: x\r\n\r\nbody\r\n", bdat: false));
        if (outcome is null)
        {
            Assert.Empty(await edge.QueuedAsync());
            return;
        }
        string stored = await edge.SingleMessageContentAsync();
        Assert.Equal(outcome != "absent", stored.Contains($"\r\n{name}: {value}\r\n"));
        Assert.DoesNotContain("X-Not", stored);
        Assert.Equal(outcome == "held", Assert.Single(edge.Queue.Entries).Hold);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Quarantine_holds_the_message_and_discard_claims_it_and_keeps_nothing(bool discard)
    {
        await using var milter = new TestMilter
        {
            Script = (c, _) => c != 'E' ? null : discard ? [TestMilter.Packet('d')] : [TestMilter.Packet('q', "suspicious"), TestMilter.Packet('c')],
        };
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(milter, directory);
        Assert.StartsWith("250 2.0.0 Ok: queued as ", await edge.SendAsync("Subject: x\r\n\r\nbody\r\n", bdat: false));
        if (discard)
        {
            Assert.Empty(await edge.QueuedAsync());
        }
        else
        {
            Assert.True(Assert.Single(edge.Queue.Entries).Hold);
        }
    }

    /// <summary>
    /// milter_default_action for a filter that cannot be reached, that never answers (milter_command_timeout) or that
    /// answers garbage; the per-filter { …, default_action=… } form overrides it. The session never hangs.
    /// </summary>
    [Theory]
    [InlineData("down", "tempfail", "451 4.7.1 Service unavailable - try again later")]
    [InlineData("down", "reject", "550 5.5.0 Service unavailable")]
    [InlineData("down", "accept", "250 2.1.0 Ok")]
    [InlineData("silent", "tempfail", "451 4.7.1 Service unavailable - try again later")]
    [InlineData("garbage", "accept", "250 2.1.0 Ok")]
    [InlineData("garbage", "reject", "550 5.5.0 Service unavailable")]
    public async Task A_filter_that_is_down_silent_or_broken_gets_its_default_action(string fault, string action, string reply)
    {
        await using var milter = new TestMilter(fault switch
        {
            "silent" => MilterBehaviour.Silent,
            "garbage" => MilterBehaviour.Garbage,
            _ => MilterBehaviour.Normal,
        });
        using Socket down = FreePorts.Refusing();
        int port = fault == "down" ? down.Port() : milter.Port;
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(
            $"smtpd_milters = {{ inet:127.0.0.1:{port}, default_action={action} }}\nmilter_command_timeout = 1s", reuse: directory);
        var clock = Stopwatch.StartNew();
        await using var c = await edge.ConnectAsync(readGreeting: false);
        // As Postfix: a filter whose default is to reject already rejects the connection, which turns the greeting into 554.
        Assert.StartsWith(action == "reject" ? "554 mx.edge.test ESMTP not accepting connections" : "220 ", await c.ReadReplyAsync());
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal(reply, await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"the session took {clock.Elapsed}");
        if (reply.StartsWith("250", StringComparison.Ordinal))
        {
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<user@edge.test>"));
            Assert.Equal("354 End data with <CR><LF>.<CR><LF>", await c.CommandAsync("DATA"));
            Assert.StartsWith("250 2.0.0 Ok", await c.CommandAsync("Subject: x\r\n\r\nbody\r\n."));
        }
    }

    [Fact]
    public async Task A_bad_milter_setting_stops_start_up_naming_it()
    {
        using var directory = new TempDirectory();
        var e = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() =>
            EdgeInstance.StartAsync("smtpd_milters = { inet:127.0.0.1:8891, default_action=maybe }", reuse: directory));
        Assert.Contains("parameter smtpd_milters: bad milter default_action \"maybe\"", e.Message);
        e = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() =>
            EdgeInstance.StartAsync("smtpd_milters = inet:localhost", reuse: directory));
        Assert.Contains("bad milter endpoint \"inet:localhost\"", e.Message);
    }

    [Fact]
    public async Task Receive_override_options_no_milters_keeps_the_filters_away()
    {
        await using var milter = new TestMilter { Script = (_, _) => [TestMilter.Packet('r')] };
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync($"smtpd_milters = {milter.Endpoint}",
            "-o receive_override_options=no_milters", reuse: directory);
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync("Subject: x\r\n\r\nbody\r\n", bdat: false));
        Assert.Empty(milter.Events);
    }

    /// <summary>
    /// non_smtpd_milters, header_checks and body_checks see the mail Edge writes itself when internal_mail_filter_classes
    /// names its class: a non-delivery notice passes the checks and the filter (which adds a header to it) like mail
    /// from a client named localhost.
    /// </summary>
    [Fact]
    public async Task A_bounce_passes_the_checks_and_non_smtpd_milters_when_internal_mail_filter_classes_says_bounce()
    {
        await using var milter = new TestMilter
        {
            Script = (c, _) => c == 'E' ? [TestMilter.Packet('h', "X-Filtered", "bounce seen"), TestMilter.Packet('c')] : null,
        };
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $$"""

            transport_maps = inline:{ { error.example = error:5.1.1 no such user here } }
            non_smtpd_milters = {{milter.Endpoint}}
            internal_mail_filter_classes = bounce
            header_checks = regexp:{{config.File("header_checks")}}

            """);
        config.Write("header_checks", "/^Subject: Undelivered Mail/ PREPEND X-Checked: by header_checks\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            error     unix  -       -       n       -       -       error
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string id = await SmtpConnection.SendWithParametersAsync(edge.Port, "sender@example.org", "", "b@error.example", "",
            "Subject: returned\r\n\r\nthe original body");
        string notice = await edge.NoticeAsync(config.Path, id, "sender non-delivery");
        Assert.Contains("\r\nX-Filtered: bounce seen\r\n", notice);
        Assert.Contains("\r\nX-Checked: by header_checks\r\nSubject: Undelivered Mail Returned to Sender\r\n", notice);
        Assert.Contains("the original body", notice);
        Assert.Equal(["C localhost|4", "H localhost|", "M <>|", "R <sender@example.org>|"],
            milter.Log.Take(4).Select(l => l.StartsWith("C ", StringComparison.Ordinal) ? l[..13] : l));
    }

    /// <summary>non_smtpd_milters and a pickup service, without a delivery transport: messages stay in the queue to be looked at.</summary>
    private static TempDirectory PickupConfig(TestMilter milter)
    {
        var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nnon_smtpd_milters = {milter.Endpoint}\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            pickup    unix  n       -       n       60      1       pickup
            qmgr      unix  n       -       n       300     1       qmgr
            """);
        return config;
    }

    private static async Task SendmailAsync(TempDirectory config) =>
        Assert.Equal(0, (await EdgeProcess.RunWithInputAsync(config.Path, "Subject: cron\n\nnightly\n", "sendmail", "-c", config.Path,
            "-f", "cron@edge.test", "user@remote.example")).Exit);

    /// <summary>Mail from edge sendmail passes non_smtpd_milters on its way from the maildrop, as Postfix's pickup mail does.</summary>
    [Fact]
    public async Task Mail_from_sendmail_passes_non_smtpd_milters()
    {
        await using var milter = new TestMilter
        {
            Script = (c, _) => c == 'E' ? [TestMilter.Packet('h', "X-Filtered", "pickup seen"), TestMilter.Packet('c')] : null,
        };
        using var config = PickupConfig(milter);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await SendmailAsync(config);
        string id = (await edge.WaitForLogAsync(@"pickup\[\d+\]: \w+: uid=\d+ from=<cron@edge\.test>")).Split(": ")[1];
        (int exit, string queued, string error) = await EdgeProcess.RunAsync(config.Path, "postcat", "-c", config.Path, "-q", id);
        Assert.True(exit == 0, error);
        Assert.Contains("\r\nX-Filtered: pickup seen\r\n", queued);
        Assert.Contains("M <cron@edge.test>|", milter.Log);
        Assert.Contains("R <user@remote.example>|", milter.Log);
    }

    /// <summary>
    /// A milter that says "try again" (4XX) to mail from sendmail leaves it in the maildrop for the next scan; one that
    /// rejects it (5XX) has it set aside: neither is lost, and neither holds up the rest.
    /// </summary>
    [Theory]
    [InlineData('t', false)]
    [InlineData('r', true)]
    public async Task Mail_from_sendmail_a_milter_refuses_stays_in_the_maildrop_or_is_set_aside(char answer, bool setAside)
    {
        await using var milter = new TestMilter { Script = (c, _) => c == 'E' ? [TestMilter.Packet(answer)] : null };
        using var config = PickupConfig(milter);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await SendmailAsync(config);
        string maildrop = config.File("var/maildrop");
        if (setAside)
        {
            await edge.WaitForLogAsync(@"pickup\[\d+\]: warning: maildrop/\S+: \w+: cleanup did not queue the message: 5\d\d .*: set aside as maildrop/\.bad-");
            Assert.Single(Directory.GetFiles(maildrop, ".bad-*"));
        }
        else
        {
            await edge.WaitForLogAsync(@"pickup\[\d+\]: warning: maildrop: \w+: cleanup did not queue the message: 4\d\d .*; trying again at the next scan");
            Assert.Empty(Directory.GetFiles(maildrop, ".bad-*"));
            Assert.Single(Directory.GetFiles(maildrop));
        }
    }
}
