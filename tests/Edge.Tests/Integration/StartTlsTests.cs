using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>RFC 3207 STARTTLS with a real handshake, and the CVE-2011-0411 plaintext injection.</summary>
public class StartTlsTests
{
    [Fact]
    public async Task Starttls_is_offered_and_a_message_goes_through_encrypted()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory) + "\nsmtpd_tls_received_header = yes");
        await using var c = await edge.ConnectAsync();
        Assert.Contains("250-STARTTLS", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("220 2.0.0 Ready to start TLS", await c.CommandAsync("STARTTLS"));
        await c.StartTlsAsync();
        string ehlo = await c.CommandAsync("EHLO client.example");
        Assert.DoesNotContain("STARTTLS", ehlo);
        Assert.Equal("554 5.5.1 Error: TLS already active", await c.CommandAsync("STARTTLS"));
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        await c.CommandAsync("RCPT TO:<postmaster@localhost>");
        await c.CommandAsync("DATA");
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: tls\r\n\r\nsecret\r\n."));
        string content = await edge.SingleMessageContentAsync();
        Assert.Contains("with ESMTPS id", content);
        Assert.Contains("(using TLSv1.", content);
        Assert.Contains("\t(No client certificate requested)\r\n", content);
    }

    /// <summary>
    /// smtpd_client_new_tls_session_rate_limit, with Postfix's replies: the handshake that goes past the limit ends the
    /// session with 421, and a STARTTLS while the client is past it gets 454 without a handshake.
    /// </summary>
    [Fact]
    public async Task New_tls_sessions_past_the_rate_limit_are_refused()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory) +
            "\nsmtpd_client_new_tls_session_rate_limit = 1\nsmtpd_client_event_limit_exceptions =");
        await using (var first = await edge.ConnectAsync())
        {
            await first.CommandAsync("EHLO client.example");
            Assert.Equal("220 2.0.0 Ready to start TLS", await first.CommandAsync("STARTTLS"));
            await first.StartTlsAsync();
            Assert.StartsWith("250-", await first.CommandAsync("EHLO client.example"));
        }
        await using (var second = await edge.ConnectAsync())
        {
            await second.CommandAsync("EHLO client.example");
            Assert.Equal("220 2.0.0 Ready to start TLS", await second.CommandAsync("STARTTLS"));
            await second.StartTlsAsync();
            Assert.Equal("421 4.7.0 mx.edge.test Error: too many new TLS sessions from localhost[127.0.0.1]", await second.ReadReplyAsync());
        }
        await using var third = await edge.ConnectAsync();
        await third.CommandAsync("EHLO client.example");
        Assert.Equal("454 4.7.0 Error: too many new TLS sessions from localhost[127.0.0.1]", await third.CommandAsync("STARTTLS"));
    }

    [Fact]
    public async Task Plaintext_pipelined_after_starttls_is_discarded()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory));
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<before@example.org>");
        await c.SendAsync("STARTTLS\r\nRSET\r\nMAIL FROM:<injected@example.org>\r\n");
        Assert.Equal("220 2.0.0 Ready to start TLS", await c.ReadReplyAsync());
        await c.StartTlsAsync();
        // Neither the injected commands nor the pre-TLS transaction survive: the next reply is to our NOOP,
        // and a new MAIL is not "nested".
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<after@example.org>"));
    }

    [Fact]
    public async Task Encrypt_level_requires_starttls_first()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory, "encrypt"));
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("530 5.7.0 Must issue a STARTTLS command first", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        await c.CommandAsync("STARTTLS");
        await c.StartTlsAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<a@example.org>"));
    }

    [Fact]
    public async Task A_failed_handshake_only_ends_that_connection()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory));
        await using (var c = await edge.ConnectAsync())
        {
            await c.CommandAsync("EHLO client.example");
            await c.CommandAsync("STARTTLS");
            await c.SendAsync("this is not a TLS client hello\r\n");
            Assert.True(await c.IsClosedAsync());
        }
        await using var next = await edge.ConnectAsync();
        Assert.Equal("250 2.0.0 Ok", await next.CommandAsync("NOOP"));
    }
}
