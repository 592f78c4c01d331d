using Edge.Delivery.Smtp;
using Edge.Mail;
using Edge.Queue;

namespace Edge.Tests.Delivery;

/// <summary>The SMTP client against Postfix's smtp-sink: what it received, and its failure options.</summary>
public class SmtpSinkDeliveryTests
{
    [Fact]
    public async Task Lines_starting_with_a_dot_arrive_as_they_were()
    {
        await using var sink = await SmtpSink.StartAsync();
        string message = Messages.Lines("Subject: dots", "", ".", ".leading", "..two", "middle . dot", ". space", "end");
        var outcomes = await Messages.DeliverAsync(Messages.Request(message, "a@sink.test", "b@sink.test"), Messages.Options(),
            Messages.Local("sink.test", sink.Port));

        Assert.All(outcomes, o =>
        {
            Assert.Equal(RecipientStatus.Sent, o.Status);
            Assert.Equal("2.0.0", o.Dsn);
            Assert.Equal("250 2.0.0 Ok", o.Reply);
            Assert.Equal($"sink.test[127.0.0.1]:{sink.Port}", o.Relay);
        });
        string dump = Assert.Single(await sink.DumpsAsync(1));
        Assert.Equal(message.Replace("\r\n", "\n"), SmtpSink.MessageOf(dump));
        Assert.Contains("X-Helo-Args: client.example\n", dump);
        Assert.Contains("X-Rcpt-Args: <a@sink.test>\nX-Rcpt-Args: <b@sink.test>\n", dump);
    }

    [Fact]
    public async Task A_one_mebibyte_message_arrives_whole()
    {
        await using var sink = await SmtpSink.StartAsync();
        string message = Messages.Large(1024 * 1024);
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(message, "a@sink.test"), Messages.Options(),
            Messages.Local("sink.test", sink.Port)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        Assert.Equal(message.Replace("\r\n", "\n"), SmtpSink.MessageOf(Assert.Single(await sink.DumpsAsync(1))));
    }

    [Fact]
    public async Task Dsn_and_body_parameters_go_with_mail_and_rcpt()
    {
        await using var sink = await SmtpSink.StartAsync();
        var request = Messages.Request(Messages.Lines("Subject: dsn", "", "caf\u00e9"), "a@sink.test") with
        {
            Body = BodyType.EightBitMime,
            Ret = DsnReturn.Headers,
            EnvId = "env+2B1",
            Recipients = [new QueuedRecipient("a@sink.test", "rfc822;orig+2Ba@example.org", DsnNotify.Success | DsnNotify.Failure)],
        };
        await Messages.DeliverAsync(request, Messages.Options(), Messages.Local("sink.test", sink.Port));

        string dump = Assert.Single(await sink.DumpsAsync(1));
        // smtp-sink announces neither SIZE nor SMTPUTF8, so neither is sent.
        Assert.Contains("X-Mail-Args: <sender@example.org> BODY=8BITMIME RET=HDRS ENVID=env+2B1\n", dump);
        Assert.Contains("X-Rcpt-Args: <a@sink.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2Ba@example.org\n", dump);
    }

    [Fact]
    public async Task Without_dsn_at_the_server_no_dsn_parameter_is_sent()
    {
        await using var sink = await SmtpSink.StartAsync("-N");
        var request = Messages.Request(Messages.Lines("Subject: no dsn"), "a@sink.test") with
        {
            Ret = DsnReturn.Full,
            EnvId = "env1",
            Recipients = [new QueuedRecipient("a@sink.test", "rfc822;a@sink.test", DsnNotify.Never)],
        };
        Assert.Equal(RecipientStatus.Sent, Assert.Single(await Messages.DeliverAsync(request, Messages.Options(), Messages.Local("sink.test", sink.Port))).Status);

        string dump = Assert.Single(await sink.DumpsAsync(1));
        Assert.Contains("X-Mail-Args: <sender@example.org>\n", dump);
        Assert.Contains("X-Rcpt-Args: <a@sink.test>\n", dump);
    }

    [Fact]
    public async Task A_server_without_smtputf8_bounces_a_message_that_needs_it()
    {
        await using var sink = await SmtpSink.StartAsync();
        var request = Messages.Request(Messages.Lines("Subject: utf8"), "j\u00f6rg@sink.test") with { SmtpUtf8 = true };
        var outcome = Assert.Single(await Messages.DeliverAsync(request, Messages.Options(), Messages.Local("sink.test", sink.Port)));

        Assert.Equal(RecipientStatus.Bounced, outcome.Status);
        Assert.Equal("5.6.7", outcome.Dsn);
        Assert.Equal("SMTPUTF8 is required, but was not offered by host sink.test[127.0.0.1]", outcome.Reply);
        await Task.Delay(200);
        Assert.Equal(0, sink.DumpCount);
    }

    [Theory]
    [InlineData("-r", "Deferred", "4.3.0", "450 4.3.0 Error: command failed")]
    [InlineData("-f", "Bounced", "5.3.0", "500 5.3.0 Error: command failed")]
    public async Task Refused_recipients_are_decided_at_rcpt_and_no_data_is_sent(string option, string status, string dsn, string reply)
    {
        // -r and -f also turn off PIPELINING: this is the one-command-at-a-time path.
        await using var sink = await SmtpSink.StartAsync(option, "RCPT");
        var outcomes = await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@sink.test", "b@sink.test"),
            Messages.Options(), Messages.Local("sink.test", sink.Port));

        Assert.All(outcomes, o =>
        {
            Assert.Equal(status, o.Status.ToString());
            Assert.Equal(dsn, o.Dsn);
            Assert.Equal($"host sink.test[127.0.0.1] said: {reply} (in reply to RCPT TO command)", o.Reply);
        });
        await Task.Delay(200);
        Assert.Equal(0, sink.DumpCount);
    }

    [Fact]
    public async Task A_refused_end_of_data_bounces_the_accepted_recipients()
    {
        await using var sink = await SmtpSink.StartAsync("-f", ".");
        var outcomes = await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@sink.test", "b@sink.test"),
            Messages.Options(), Messages.Local("sink.test", sink.Port));

        Assert.All(outcomes, o =>
        {
            Assert.Equal(RecipientStatus.Bounced, o.Status);
            Assert.Equal("host sink.test[127.0.0.1] said: 500 5.3.0 Error: command failed (in reply to end of DATA command)", o.Reply);
        });
    }

    [Fact]
    public async Task A_refused_mail_from_decides_every_recipient()
    {
        await using var sink = await SmtpSink.StartAsync("-r", "MAIL");
        var outcomes = await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@sink.test", "b@sink.test"),
            Messages.Options(), Messages.Local("sink.test", sink.Port));

        Assert.All(outcomes, o =>
        {
            Assert.Equal(RecipientStatus.Deferred, o.Status);
            Assert.Equal("host sink.test[127.0.0.1] said: 450 4.3.0 Error: command failed (in reply to MAIL FROM command)", o.Reply);
        });
    }

    /// <summary>
    /// An address verification probe ends at the replies to RCPT TO, pipelined or not: the server never hears DATA,
    /// the accepted recipient is answered with its RCPT reply, the refused one with the refusal.
    /// </summary>
    [Theory]
    [InlineData()]
    [InlineData("-p")]
    public async Task A_probe_stops_after_rcpt_and_sends_no_data(params string[] options)
    {
        // -f (which implies -p): RCPT TO gets a 5xx.
        await using var sink = await SmtpSink.StartAsync("-f", "RCPT");
        var request = Messages.Request(Messages.Lines("Subject: x"), "a@sink.test") with { VerifyOnly = true };
        var outcome = Assert.Single(await Messages.DeliverAsync(request, Messages.Options(), Messages.Local("sink.test", sink.Port)));
        Assert.Equal(RecipientStatus.Bounced, outcome.Status);
        Assert.StartsWith("host sink.test[127.0.0.1] said: 5", outcome.Reply);

        await using var taking = await SmtpSink.StartAsync(options);
        outcome = Assert.Single(await Messages.DeliverAsync(request, Messages.Options(), Messages.Local("sink.test", taking.Port)));
        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        Assert.Equal("250 2.1.5 Ok", outcome.Reply);
        await Task.Delay(200);
        Assert.Equal(0, sink.Count("DATA") + taking.Count("DATA"));
        Assert.Equal(1, taking.Count("RCPT TO:<a@sink.test>"));
        Assert.Equal(0, taking.DumpCount);
    }

    [Theory]
    [InlineData("RCPT", "sending RCPT TO")]
    [InlineData("DATA", "sending DATA command")]
    [InlineData(".", "sending end of data -- message may be sent more than once")]
    public async Task A_connection_lost_mid_transaction_defers_with_the_stage(string command, string stage)
    {
        await using var sink = await SmtpSink.StartAsync("-q", command);
        var outcomes = await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@sink.test", "b@sink.test"),
            Messages.Options(), Messages.Local("sink.test", sink.Port));

        Assert.All(outcomes, o =>
        {
            Assert.Equal(RecipientStatus.Deferred, o.Status);
            Assert.Equal("4.4.2", o.Dsn);
            Assert.Equal($"lost connection with sink.test[127.0.0.1] while {stage}", o.Reply);
            Assert.Equal($"sink.test[127.0.0.1]:{sink.Port}", o.Relay);
        });
    }

    [Fact]
    public async Task A_421_to_mail_defers_and_drops_the_connection()
    {
        await using var sink = await SmtpSink.StartAsync("-Q", "MAIL");
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@sink.test"),
            Messages.Options(), Messages.Local("sink.test", sink.Port)));

        Assert.Equal(RecipientStatus.Deferred, outcome.Status);
        Assert.StartsWith("host sink.test[127.0.0.1] said: 421 ", outcome.Reply);
        Assert.EndsWith("(in reply to MAIL FROM command)", outcome.Reply);
    }

    [Fact]
    public async Task A_slow_reply_to_data_times_out_with_the_stage()
    {
        // -p: without PIPELINING each reply is awaited on its own; -w: the reply to DATA comes after 5 s.
        await using var sink = await SmtpSink.StartAsync("-p", "-w", "5");
        var options = new SmtpClientOptions { HeloName = "client.example", DataInitTimeout = TimeSpan.FromSeconds(1) };
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@sink.test"),
            options, Messages.Local("sink.test", sink.Port)));

        Assert.Equal(RecipientStatus.Deferred, outcome.Status);
        Assert.Equal("4.4.2", outcome.Dsn);
        Assert.Equal("conversation with sink.test[127.0.0.1] timed out while sending DATA command", outcome.Reply);
    }

    [Fact]
    public async Task Ehlo_refused_with_5xx_falls_back_to_helo()
    {
        await using var sink = await SmtpSink.StartAsync("-f", "EHLO");
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: helo"), "a@sink.test"),
            Messages.Options(), Messages.Local("sink.test", sink.Port)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        string dump = Assert.Single(await sink.DumpsAsync(1));
        Assert.Contains("X-Client-Proto: SMTP\n", dump);
        Assert.Contains("X-Helo-Args: client.example\n", dump);
    }

    [Fact]
    public async Task A_5xx_greeting_moves_on_to_the_next_server_and_defers_at_the_last()
    {
        await using var refusing = await SmtpSink.StartAsync("-f", "CONNECT");
        await using var taking = await SmtpSink.StartAsync();
        var first = Messages.Local("refusing.test", refusing.Port);

        var alone = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@sink.test"), Messages.Options(), first));
        Assert.Equal(RecipientStatus.Deferred, alone.Status);
        Assert.Equal("4.3.0", alone.Dsn);
        Assert.Equal("host refusing.test[127.0.0.1] refused to talk to me: 500 5.3.0 Error: command failed", alone.Reply);

        var moved = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@sink.test"), Messages.Options(),
            first, Messages.Local("taking.test", taking.Port)));
        Assert.Equal(RecipientStatus.Sent, moved.Status);
        Assert.Equal($"taking.test[127.0.0.1]:{taking.Port}", moved.Relay);
    }

    [Fact]
    public async Task A_cached_connection_carries_the_next_delivery_and_quits_when_idle()
    {
        await using var sink = await SmtpSink.StartAsync();
        var options = new SmtpClientOptions { HeloName = "client.example", ConnectionCacheTimeLimit = TimeSpan.FromSeconds(1) };
        var server = Messages.Local("sink.test", sink.Port);
        await using var agent = new SmtpDeliveryAgent();
        for (int i = 0; i < 3; i++)
        {
            var outcome = Assert.Single(await agent.DeliverAsync(Messages.Request(Messages.Lines($"Subject: {i}"), "a@sink.test"),
                [server], options, CancellationToken.None));
            Assert.Equal(RecipientStatus.Sent, outcome.Status);
        }
        Assert.Equal(3, (await sink.DumpsAsync(3)).Count);
        Assert.Equal(1, sink.Count("connect"));
        // Postfix resets a cached connection before it uses it again.
        Assert.Equal(2, sink.Count("RSET"));
        Assert.Equal(0, sink.Count("QUIT"));

        // Idle past smtp_connection_cache_time_limit, while the agent lives on: closed with QUIT.
        for (int i = 0; i < 100 && sink.Count("disconnect") == 0; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(1, sink.Count("QUIT"));
        Assert.Equal(1, sink.Count("disconnect"));
    }

    [Fact]
    public async Task A_cached_connection_that_fails_rset_is_replaced_by_a_fresh_one()
    {
        // -q RSET: smtp-sink hangs up on the RSET that precedes reuse.
        await using var sink = await SmtpSink.StartAsync("-q", "RSET");
        var server = Messages.Local("sink.test", sink.Port);
        await using var agent = new SmtpDeliveryAgent();
        for (int i = 0; i < 2; i++)
        {
            var outcome = Assert.Single(await agent.DeliverAsync(Messages.Request(Messages.Lines($"Subject: {i}"), "a@sink.test"),
                [server], Messages.Options(), CancellationToken.None));
            Assert.Equal(RecipientStatus.Sent, outcome.Status);
        }
        Assert.Equal(2, (await sink.DumpsAsync(2)).Count);
        Assert.Equal(2, sink.Count("connect"));
    }

    [Fact]
    public async Task Lmtp_gets_one_reply_per_accepted_recipient()
    {
        await using var sink = await SmtpSink.StartAsync("-L");
        var outcomes = await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: lmtp", "", ".dot"), "a@sink.test", "b@sink.test"),
            Messages.Options(lmtp: true), Messages.Local("sink.test", sink.Port));

        Assert.Equal(2, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal(RecipientStatus.Sent, o.Status));
        string dump = Assert.Single(await sink.DumpsAsync(1));
        Assert.Contains("X-Client-Proto: LMTP\n", dump);
        Assert.EndsWith("\n.dot\n\n", dump);
    }
}
