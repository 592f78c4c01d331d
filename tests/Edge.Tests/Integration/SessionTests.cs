using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>The SMTP dialogue against a real server on 127.0.0.1: replies, enhanced codes and texts as Postfix gives them.</summary>
public class SessionTests
{
    [Fact]
    public async Task Greeting_and_ehlo_keywords()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("220 mx.edge.test ESMTP Edge", await c.ReadReplyAsync());
        Assert.Equal(string.Join("\n",
            "250-mx.edge.test", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY", "250-ETRN", "250-ENHANCEDSTATUSCODES",
            "250-8BITMIME", "250-DSN", "250-SMTPUTF8", "250 CHUNKING"), await c.CommandAsync("EHLO client.example"));
        Assert.Equal("250 mx.edge.test", await c.CommandAsync("HELO client.example"));
        Assert.Equal("214 2.0.0 Commands: BDAT DATA EHLO HELO HELP MAIL NOOP QUIT RCPT RSET STARTTLS VRFY", await c.CommandAsync("HELP"));
        Assert.Equal("252 2.0.0 <someone@edge.test>", await c.CommandAsync("VRFY <someone@edge.test>"));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
        Assert.Equal("221 2.0.0 Bye", await c.CommandAsync("QUIT"));
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task Discarded_ehlo_keywords_and_disabled_vrfy()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_discard_ehlo_keywords = chunking, dsn\ndisable_vrfy_command = yes");
        await using var c = await edge.ConnectAsync();
        string ehlo = await c.CommandAsync("EHLO client.example");
        Assert.DoesNotContain("CHUNKING", ehlo);
        Assert.DoesNotContain("DSN", ehlo);
        Assert.DoesNotContain("VRFY", ehlo);
        Assert.EndsWith("250 SMTPUTF8", ehlo);
        Assert.Equal("502 5.5.1 VRFY command is disabled", await c.CommandAsync("VRFY <a@edge.test>"));
    }

    [Fact]
    public async Task A_whole_transaction_is_queued_with_a_received_header()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org> SIZE=100 BODY=8BITMIME"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<postmaster@localhost>"));
        Assert.Equal("354 End data with <CR><LF>.<CR><LF>", await c.CommandAsync("DATA"));
        string reply = await c.CommandAsync("Subject: test\r\n\r\nHello\r\n..dot\r\n.");
        Assert.Matches("^250 2.0.0 Ok: queued as [0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10}$", reply);
        string id = reply.Split(' ')[^1];

        var queued = Assert.Single(await edge.QueuedAsync());
        Assert.Equal(id, queued.Id.ToString());
        Assert.Equal("sender@example.org", queued.Sender);
        Assert.Equal("postmaster@localhost", Assert.Single(queued.Recipients).Address);
        string content = await edge.SingleMessageContentAsync();
        Assert.Matches($"^Received: from client.example \\(localhost \\[127.0.0.1\\]\\)\r\n\tby mx.edge.test \\(Edge\\) with ESMTP id {id}\r\n\tfor <postmaster@localhost>; \\w{{3}}, [ \\d]\\d \\w{{3}} \\d{{4}} \\d\\d:\\d\\d:\\d\\d \\+0000 \\(UTC\\)\r\nSubject: test\r\n\r\nHello\r\n.dot\r\n$", content);
        Assert.Equal(content.Length, queued.Size);
    }

    [Fact]
    public async Task Dsn_and_smtputf8_parameters_are_stored_with_the_envelope()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.StartsWith("250", await c.CommandAsync("MAIL FROM:<sender@example.org> RET=HDRS ENVID=QQ+2B314 SMTPUTF8"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<jörg@edge.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;j+40edge.test"));
        await c.CommandAsync("DATA");
        Assert.StartsWith("250 2.0.0 Ok: queued as", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        var m = Assert.Single(await edge.QueuedAsync());
        Assert.Equal("QQ+2B314", m.EnvId);
        Assert.Equal(Edge.Mail.DsnReturn.Headers, m.Ret);
        Assert.True(m.SmtpUtf8);
        var r = Assert.Single(m.Recipients);
        Assert.Equal("jörg@edge.test", r.Address);
        Assert.Equal("rfc822;j+40edge.test", r.Orcpt);
        Assert.Equal(Edge.Mail.DsnNotify.Success | Edge.Mail.DsnNotify.Delay, r.Notify);
        Assert.Contains("with UTF8SMTP id", await edge.SingleMessageContentAsync());
    }

    [Theory]
    [InlineData("EHLO", "501 Syntax: EHLO hostname")]
    [InlineData("HELO", "501 Syntax: HELO hostname")]
    [InlineData("RCPT TO:<a@edge.test>", "503 5.5.1 Error: need MAIL command")]
    [InlineData("DATA", "503 5.5.1 Error: need RCPT command")]
    [InlineData("MAIL TO:<a@b.example>", "501 5.5.4 Syntax: MAIL FROM:<address>")]
    [InlineData("MAIL FROM:<a b@c>", "501 5.1.7 Bad sender address syntax")]
    [InlineData("MAIL FROM:<a@b.example> SIZE=20000000", "552 5.3.4 Message size exceeds fixed limit")]
    [InlineData("MAIL FROM:<a@b.example> SIZE=x", "501 5.5.4 Bad message size syntax")]
    [InlineData("MAIL FROM:<a@b.example> FOO=1", "555 5.5.4 Unsupported option: FOO=1")]
    [InlineData("MAIL FROM:<a@b.example> RET=SOME", "501 5.5.4 Bad RET parameter syntax")]
    [InlineData("MAIL FROM:<a@b.example> ENVID=a=b", "501 5.5.4 Bad ENVID parameter syntax")]
    [InlineData("RSET x", "501 5.5.4 Syntax: RSET")]
    [InlineData("VRFY", "501 5.5.4 Syntax: VRFY address [SMTPUTF8]")]
    [InlineData("XYZZY", "500 5.5.2 Error: command not recognized")]
    [InlineData("EXPN staff", "500 5.5.2 Error: command not recognized")]
    [InlineData("AUTH PLAIN", "503 5.5.1 Error: authentication not enabled")]
    [InlineData("STARTTLS", "502 5.5.1 Error: command not implemented")]
    [InlineData("", "500 5.5.2 Error: bad syntax")]
    public async Task Bad_commands_get_postfix_replies(string command, string expected)
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal(expected, await c.CommandAsync(command));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
    }

    [Theory]
    [InlineData("RCPT TO:<>", "501 5.1.3 Bad recipient address syntax")]
    [InlineData("RCPT TO:<a@b", "501 5.1.3 Bad recipient address syntax")]
    [InlineData("RCPT FROM:<a@b.example>", "501 5.5.4 Syntax: RCPT TO:<address>")]
    [InlineData("RCPT TO:<a@edge.test> NOTIFY=NEVER,DELAY", "501 5.5.4 Error: Bad NOTIFY parameter syntax")]
    [InlineData("RCPT TO:<a@edge.test> ORCPT=nosemicolon", "501 5.5.4 Error: Bad ORCPT parameter syntax")]
    [InlineData("RCPT TO:<a@edge.test> SIZE=1", "555 5.5.4 Unsupported option: SIZE=1")]
    [InlineData("MAIL FROM:<b@b.example>", "503 5.5.1 Error: nested MAIL command")]
    [InlineData("DATA", "554 5.5.1 Error: no valid recipients")]
    public async Task Bad_commands_inside_a_transaction(string command, string expected)
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@b.example>");
        Assert.Equal(expected, await c.CommandAsync(command));
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Data_with_an_argument_is_a_syntax_error()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("a@b.example", "postmaster@localhost");
        Assert.Equal("501 5.5.4 Syntax: DATA", await c.CommandAsync("DATA now"));
    }

    [Fact]
    public async Task Eight_bit_addresses_need_smtputf8_enable()
    {
        await using var edge = await EdgeInstance.StartAsync("smtputf8_enable = no");
        await using var c = await edge.ConnectAsync();
        Assert.DoesNotContain("SMTPUTF8", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("501 5.1.7 Bad sender address syntax", await c.CommandAsync("MAIL FROM:<jörg@b.example>"));
        Assert.Equal("555 5.5.4 Unsupported option: SMTPUTF8", await c.CommandAsync("MAIL FROM:<j@b.example> SMTPUTF8"));
    }

    /// <summary>
    /// With SMTPUTF8 on (the default), a command that is not well-formed UTF-8 gets Postfix's reply, counts as an
    /// error and changes nothing: invalid bytes, an over-long form, a lone surrogate, with or without SMTPUTF8.
    /// </summary>
    [Theory]
    [InlineData("MAIL FROM:<us\xff\xfeer@x.test>")]
    [InlineData("MAIL FROM:<us\xff\xfeer@x.test> SMTPUTF8")]
    [InlineData("MAIL FROM:<user@x\xc0\xaf.test>")]
    [InlineData("MAIL FROM:<user@x.test> ENVID=\xed\xa0\x80")]
    [InlineData("RCPT TO:<j\xf8rg@x.test>")]
    [InlineData("EHLO cl\xe9ent.example")]
    public async Task Commands_that_are_not_utf8_get_bad_utf8_syntax(string command)
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_hard_error_limit = 3");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.SendAsync([.. command.Select(ch => (byte)ch), (byte)'\r', (byte)'\n']);
        Assert.Equal("500 5.5.2 Error: bad UTF-8 syntax", await c.ReadReplyAsync());
        // Nothing started: a transaction still needs its MAIL FROM.
        Assert.Equal("503 5.5.1 Error: need MAIL command", await c.CommandAsync("RCPT TO:<postmaster@localhost>"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<jörg@b.example> SMTPUTF8"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<postmaster@localhost>"));
    }

    [Fact]
    public async Task Helo_required()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_helo_required = yes");
        await using var c = await edge.ConnectAsync();
        Assert.Equal("503 5.5.1 Error: send HELO/EHLO first", await c.CommandAsync("MAIL FROM:<a@b.example>"));
    }

    [Fact]
    public async Task Too_many_recipients()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_recipient_limit = 2");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@b.example>");
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<a@edge.test>"));
        Assert.StartsWith("250", await c.CommandAsync("RCPT TO:<b@edge.test>"));
        Assert.Equal("452 4.5.3 Error: too many recipients", await c.CommandAsync("RCPT TO:<c@edge.test>"));
        await c.CommandAsync("DATA");
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        Assert.Equal(2, Assert.Single(await edge.QueuedAsync()).Recipients.Count);
    }

    [Fact]
    public async Task A_message_over_the_size_limit_is_refused_after_its_end_and_not_stored()
    {
        await using var edge = await EdgeInstance.StartAsync("message_size_limit = 2000");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("a@b.example", "postmaster@localhost");
        await c.CommandAsync("DATA");
        string big = string.Concat(Enumerable.Repeat("0123456789012345678901234567890123456789\r\n", 100));
        Assert.Equal("552 5.3.4 Error: message file too big", await c.CommandAsync("Subject: big\r\n\r\n" + big + "."));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
        Assert.Empty(await edge.QueuedAsync());
    }

    [Theory]
    [InlineData("GET / HTTP/1.1")]
    [InlineData("POST /submit HTTP/1.1")]
    [InlineData("CONNECT mail.example:25 HTTP/1.1")]
    [InlineData("Subject: hello")]
    public async Task Non_smtp_commands_end_the_session(string line)
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        Assert.Equal("221 2.7.0 Error: I can break rules, too. Goodbye.", await c.CommandAsync(line));
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task An_over_long_command_line_is_truncated_and_the_rest_discarded()
    {
        await using var edge = await EdgeInstance.StartAsync("line_length_limit = 600");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.SendAsync("MAIL FROM:<" + new string('a', 100_000));
        await c.SendAsync(new string('b', 100_000) + "@example.org>\r\n");
        Assert.Equal("501 5.1.7 Bad sender address syntax", await c.ReadReplyAsync());
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task The_rest_of_an_over_long_ehlo_line_is_not_taken_for_pipelining()
    {
        await using var edge = await EdgeInstance.StartAsync("line_length_limit = 600");
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250-mx.edge.test", await c.CommandAsync("EHLO " + new string('x', 3000)));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Hard_error_limit_closes_with_421()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_hard_error_limit = 3\nsmtpd_soft_error_limit = 10");
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("500", await c.CommandAsync("BOGUS1"));
        Assert.StartsWith("500", await c.CommandAsync("BOGUS2"));
        Assert.Equal("500 5.5.2 Error: command not recognized\n421 4.7.0 mx.edge.test Error: too many errors",
            await c.CommandAsync("BOGUS3") + "\n" + await c.ReadReplyAsync());
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task Soft_error_limit_delays_replies()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_soft_error_limit = 1\nsmtpd_error_sleep_time = 2s");
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("500", await c.CommandAsync("BOGUS"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.5), $"reply came after {clock.Elapsed}");
    }

    [Fact]
    public async Task Junk_commands_count_as_errors_past_the_limit()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_junk_command_limit = 1\nsmtpd_hard_error_limit = 1");
        await using var c = await edge.ConnectAsync();
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
        Assert.Equal("250 2.0.0 Ok\n421 4.7.0 mx.edge.test Error: too many errors", await c.CommandAsync("NOOP") + "\n" + await c.ReadReplyAsync());
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task Idle_clients_time_out_with_421()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_timeout = 1s");
        await using var c = await edge.ConnectAsync();
        await c.SendAsync("EHLO par");
        Assert.Equal("421 4.4.2 mx.edge.test Error: timeout exceeded", await c.ReadReplyAsync());
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task Rset_clears_the_transaction()
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("a@b.example", "postmaster@localhost");
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
        Assert.Equal("503 5.5.1 Error: need RCPT command", await c.CommandAsync("DATA"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@b.example>"));
    }
}
