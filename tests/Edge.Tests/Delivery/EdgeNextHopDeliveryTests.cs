using Edge.Config;
using Edge.Delivery.Smtp;
using Edge.Mail;
using Edge.Queue;
using Edge.Tests.Support;

namespace Edge.Tests.Delivery;

/// <summary>The SMTP client delivering to a real Edge server, read back from Edge's queue.</summary>
public class EdgeNextHopDeliveryTests
{
    private static NextHopServer Mx(EdgeInstance edge) => Messages.Local("mx.edge.test", edge.Port);

    /// <summary>The stored content without the Received: header that Edge prepended.</summary>
    private static async Task<string> StoredWithoutReceivedAsync(EdgeInstance edge)
    {
        string content = await edge.SingleMessageContentAsync();
        Assert.StartsWith("Received: ", content);
        int end = 0;
        do
        {
            end = content.IndexOf("\r\n", end, StringComparison.Ordinal) + 2;
        }
        while (content[end] is ' ' or '\t');
        return content[end..];
    }

    [Fact]
    public async Task A_pipelined_delivery_is_queued_exactly_as_sent()
    {
        await using var edge = await EdgeInstance.StartAsync();
        string message = Messages.Lines("Subject: to edge", "", ".", ".leading dot", "..two dots", "last");
        var outcomes = await Messages.DeliverAsync(Messages.Request(message, "one@edge.test", "two@edge.test"), Messages.Options(), Mx(edge));

        Assert.Equal(2, outcomes.Count);
        QueuedMessage queued = Assert.Single(await edge.QueuedAsync());
        Assert.All(outcomes, o =>
        {
            Assert.Equal(RecipientStatus.Sent, o.Status);
            Assert.Equal("2.0.0", o.Dsn);
            Assert.Equal($"250 2.0.0 Ok: queued as {queued.Id}", o.Reply);
            Assert.Equal($"mx.edge.test[127.0.0.1]:{edge.Port}", o.Relay);
        });
        Assert.Equal("sender@example.org", queued.Sender);
        Assert.Equal(["one@edge.test", "two@edge.test"], queued.Recipients.Select(r => r.Address));
        Assert.Equal(message, await StoredWithoutReceivedAsync(edge));
        Assert.Contains("from client.example (localhost [127.0.0.1])", await edge.SingleMessageContentAsync());
    }

    /// <summary>
    /// smtp_generic_maps: the next hop gets the mapped sender and recipients and address headers (a local part alone
    /// matches in a local domain, "@domain" keeps the user), while the queue keeps the original addresses.
    /// </summary>
    [Fact]
    public async Task Generic_maps_give_the_next_hop_public_addresses()
    {
        await using var edge = await EdgeInstance.StartAsync();
        using var config = new TempDirectory();
        config.Write("main.cf", "myhostname = box.lan\nmydestination = box.lan\nsmtp_helo_name = client.example\n" +
            "smtp_generic_maps = inline:{ sender@example.org=news@edge.test, root=admin@edge.test, @box.lan=@edge.test }\n");
        MainConfig main = MainConfig.Load(config.Path);
        SmtpClientOptions options = SmtpClientOptions.FromConfig(main, lmtp: false, Hosting.SmtpdSettingsFactory.Classifier(main));
        string message = Messages.Lines("From: Root <root@box.lan>", "To: alice@box.lan, other@example.net", "Subject: generic", "", "root@box.lan");
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(message, "carol@box.lan"), options, Mx(edge)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        QueuedMessage queued = Assert.Single(await edge.QueuedAsync());
        Assert.Equal("news@edge.test", queued.Sender);
        Assert.Equal(["carol@edge.test"], queued.Recipients.Select(r => r.Address));
        Assert.Equal(Messages.Lines("From: Root <admin@edge.test>", "To: alice@edge.test, other@example.net", "Subject: generic", "", "root@box.lan"),
            await StoredWithoutReceivedAsync(edge));
    }

    [Fact]
    public async Task A_one_mebibyte_message_is_queued_whole()
    {
        await using var edge = await EdgeInstance.StartAsync();
        string message = Messages.Large(1024 * 1024);
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(message, "big@edge.test"), Messages.Options(), Mx(edge)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        Assert.Equal(message, await StoredWithoutReceivedAsync(edge));
    }

    [Fact]
    public async Task Content_that_cannot_be_read_is_never_completed_at_the_server()
    {
        await using var edge = await EdgeInstance.StartAsync();
        var request = Messages.Request("", "user@edge.test") with
        {
            Size = 100_000,
            CopyContentAsync = async (stream, cancellationToken) =>
            {
                await stream.WriteAsync("Subject: half\r\n\r\n"u8.ToArray(), cancellationToken);
                await stream.WriteAsync(Enumerable.Repeat((byte)'x', 64 * 1024).ToArray(), cancellationToken);
                throw new InvalidDataException("content chunk is corrupt");
            },
        };
        var outcome = Assert.Single(await Messages.DeliverAsync(request, Messages.Options(), Mx(edge)));

        Assert.Equal(RecipientStatus.Deferred, outcome.Status);
        Assert.Equal("4.3.0", outcome.Dsn);
        Assert.Equal("error reading message content: content chunk is corrupt", outcome.Reply);
        await Task.Delay(300);
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task A_message_over_the_servers_size_limit_bounces_without_being_sent()
    {
        await using var edge = await EdgeInstance.StartAsync("message_size_limit = 1000");
        string message = Messages.Lines("Subject: too big", "", new string('x', 2000));
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(message, "user@edge.test"), Messages.Options(), Mx(edge)));

        Assert.Equal(RecipientStatus.Bounced, outcome.Status);
        Assert.Equal("5.3.4", outcome.Dsn);
        Assert.Equal($"message size {message.Length} exceeds size limit 1000 of server mx.edge.test[127.0.0.1]", outcome.Reply);
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task A_message_under_the_size_limit_goes_with_its_size()
    {
        await using var edge = await EdgeInstance.StartAsync("message_size_limit = 1000");
        string message = Messages.Lines("Subject: small", "", "fits");
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(message, "user@edge.test"), Messages.Options(), Mx(edge)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        Assert.Equal(message, await StoredWithoutReceivedAsync(edge));
    }

    [Theory]
    [InlineData("smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination", "Bounced", "5.7.1", "554 5.7.1")]
    [InlineData("", "Deferred", "4.7.1", "454 4.7.1")]
    public async Task A_recipient_refused_at_rcpt_is_decided_there_while_the_other_is_delivered(
        string restrictions, string status, string dsn, string reply)
    {
        // 127.0.0.1 outside mynetworks: Edge is not an open relay for this client.
        await using var edge = await EdgeInstance.StartAsync("mynetworks = 192.0.2.0/24\n" + restrictions);
        string message = Messages.Lines("Subject: half");
        var outcomes = await Messages.DeliverAsync(Messages.Request(message, "user@edge.test", "user@elsewhere.example"),
            Messages.Options(), Mx(edge));

        Assert.Equal(RecipientStatus.Sent, outcomes[0].Status);
        Assert.Equal(status, outcomes[1].Status.ToString());
        Assert.Equal(dsn, outcomes[1].Dsn);
        Assert.Equal($"host mx.edge.test[127.0.0.1] said: {reply} <user@elsewhere.example>: Relay access denied (in reply to RCPT TO command)",
            outcomes[1].Reply);
        QueuedMessage queued = Assert.Single(await edge.QueuedAsync());
        Assert.Equal("user@edge.test", Assert.Single(queued.Recipients).Address);
    }

    [Fact]
    public async Task No_recipient_accepted_means_no_message()
    {
        await using var edge = await EdgeInstance.StartAsync("mynetworks = 192.0.2.0/24\nsmtpd_relay_restrictions = reject_unauth_destination");
        var outcomes = await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: none"), "a@elsewhere.example", "b@elsewhere.example"),
            Messages.Options(), Mx(edge));

        Assert.All(outcomes, o => Assert.Equal(RecipientStatus.Bounced, o.Status));
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Opportunistic_tls_delivers_encrypted()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory) + "\nsmtpd_tls_received_header = yes");
        string message = Messages.Lines("Subject: secret", "", "tls");
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(message, "user@edge.test"), Messages.Options(SmtpTlsLevel.May), Mx(edge)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        string stored = await edge.SingleMessageContentAsync();
        Assert.Contains("(using TLSv1.", stored);
        Assert.Contains("with ESMTPS id", stored);
        Assert.Equal(message, await StoredWithoutReceivedAsync(edge));
    }

    [Fact]
    public async Task Opportunistic_tls_without_starttls_at_the_server_delivers_in_plaintext()
    {
        await using var edge = await EdgeInstance.StartAsync();
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: plain"), "user@edge.test"),
            Messages.Options(SmtpTlsLevel.May), Mx(edge)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        Assert.Contains("with ESMTP id", await edge.SingleMessageContentAsync());
    }

    [Fact]
    public async Task A_failed_opportunistic_handshake_is_retried_in_plaintext()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory));
        await using var proxy = new BrokenTlsProxy(edge.Port);
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: fallback"), "user@edge.test"),
            Messages.Options(SmtpTlsLevel.May), Messages.Local("mx.edge.test", proxy.Port)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        Assert.Equal(2, proxy.Connections);
        Assert.Contains("with ESMTP id", await edge.SingleMessageContentAsync());
    }

    [Fact]
    public async Task A_failed_mandatory_handshake_defers()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory));
        await using var proxy = new BrokenTlsProxy(edge.Port);
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "user@edge.test"),
            Messages.Options(SmtpTlsLevel.Encrypt), Messages.Local("mx.edge.test", proxy.Port)));

        Assert.Equal(RecipientStatus.Deferred, outcome.Status);
        Assert.Equal("4.7.5", outcome.Dsn);
        Assert.Equal("Cannot start TLS: handshake failure", outcome.Reply);
        Assert.Equal(1, proxy.Connections);
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Mandatory_tls_defers_when_the_server_does_not_offer_it()
    {
        await using var edge = await EdgeInstance.StartAsync();
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "user@edge.test"),
            Messages.Options(SmtpTlsLevel.Encrypt), Mx(edge)));

        Assert.Equal(RecipientStatus.Deferred, outcome.Status);
        Assert.Equal("4.7.4", outcome.Dsn);
        Assert.Equal("TLS is required, but was not offered by host mx.edge.test[127.0.0.1]", outcome.Reply);
        Assert.Empty(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Mandatory_tls_delivers_to_a_server_with_starttls()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory, "encrypt"));
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "user@edge.test"),
            Messages.Options(SmtpTlsLevel.Encrypt), Mx(edge)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        Assert.Contains("with ESMTPS id", await edge.SingleMessageContentAsync());
    }

    [Fact]
    public async Task Dsn_parameters_arrive_in_the_queued_envelope()
    {
        await using var edge = await EdgeInstance.StartAsync();
        var request = Messages.Request(Messages.Lines("Subject: dsn", "", "caf\u00e9"), "x") with
        {
            Body = BodyType.EightBitMime,
            Ret = DsnReturn.Headers,
            EnvId = "env+2B1",
            Recipients =
            [
                new QueuedRecipient("one@edge.test", "rfc822;orig+2Bone@example.org", DsnNotify.Success | DsnNotify.Failure),
                new QueuedRecipient("two@edge.test", "", DsnNotify.Never),
                new QueuedRecipient("three@edge.test", "", DsnNotify.Unspecified),
            ],
        };
        var outcomes = await Messages.DeliverAsync(request, Messages.Options(), Mx(edge));

        Assert.All(outcomes, o => Assert.Equal(RecipientStatus.Sent, o.Status));
        QueuedMessage queued = Assert.Single(await edge.QueuedAsync());
        Assert.Equal("env+2B1", queued.EnvId);
        Assert.Equal(DsnReturn.Headers, queued.Ret);
        Assert.Equal(BodyType.EightBitMime, queued.Body);
        Assert.Equal(request.Recipients, queued.Recipients);
    }

    [Fact]
    public async Task An_smtputf8_message_goes_with_smtputf8()
    {
        await using var edge = await EdgeInstance.StartAsync();
        var request = Messages.Request(Messages.Lines("Subject: utf8"), "j\u00f6rg@edge.test") with { SmtpUtf8 = true, Sender = "s\u00e9nder@example.org" };
        var outcome = Assert.Single(await Messages.DeliverAsync(request, Messages.Options(), Mx(edge)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        QueuedMessage queued = Assert.Single(await edge.QueuedAsync());
        Assert.True(queued.SmtpUtf8);
        Assert.Equal("s\u00e9nder@example.org", queued.Sender);
        Assert.Equal("j\u00f6rg@edge.test", Assert.Single(queued.Recipients).Address);
    }
}
