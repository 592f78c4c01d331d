using System.Text;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// SMTP smuggling over a real socket: a message whose body hides a second transaction behind a non-standard
/// end-of-data sequence must be stored as exactly one message, and the hidden commands must get no reply.
/// </summary>
public class SmugglingTests
{
    // Loopback is in mynetworks, which the default smtpd_forbid_bare_newline_exclusions exempts, so the
    // tests clear the exclusions to get the protection an internet client gets.
    private const string Protected = "smtpd_forbid_bare_newline_exclusions =";

    public static TheoryData<string> Variants => new()
    {
        "\n.\n", "\n.\r", "\r.\n", "\r.\r", "\n.\r\n", "\r.\r\n", "\r\n.\n", "\r\n.\r", "\r\n\0.\r\n",
        "\r\n.\0\r\n", "\r\n.\r\r\n", "\r\n\r.\r\n", "\n..\n",
    };

    private static string Smuggled(string variant) =>
        "Subject: outer\r\n\r\nhello" + variant +
        "MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<postmaster@localhost>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n";

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Data_stores_exactly_one_message(string variant)
    {
        await using var edge = await EdgeInstance.StartAsync(Protected);
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("sender@example.org", "postmaster@localhost");
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        await c.SendAsync(Encoding.Latin1.GetBytes(Smuggled(variant) + ".\r\nQUIT\r\n"));
        string replies = await c.ReadAvailableAsync(TimeSpan.FromSeconds(2));
        Assert.Matches("^250 2.0.0 Ok: queued as \\w+\r\n221 2.0.0 Bye\r\n$", replies);
        var message = Assert.Single(await edge.QueuedAsync());
        Assert.Equal("sender@example.org", message.Sender);
        Assert.Contains("MAIL FROM:<evil@attacker.example>", await edge.SingleMessageContentAsync());
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public async Task Bdat_stores_exactly_one_message(string variant)
    {
        await using var edge = await EdgeInstance.StartAsync(Protected);
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("sender@example.org", "postmaster@localhost");
        byte[] body = Encoding.Latin1.GetBytes(Smuggled(variant) + ".\r\n");
        await c.SendAsync(Encoding.ASCII.GetBytes($"BDAT {body.Length} LAST\r\n").Concat(body).Concat("QUIT\r\n"u8.ToArray()).ToArray());
        string replies = await c.ReadAvailableAsync(TimeSpan.FromSeconds(2));
        Assert.Matches("^250 2.0.0 Ok: \\d+ bytes queued as \\w+\r\n221 2.0.0 Bye\r\n$", replies);
        Assert.Single(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Legacy_mode_is_what_excluded_clients_get()
    {
        // smtpd_forbid_bare_newline = no (or a client in the exclusions) keeps the old, smugglable behaviour,
        // exactly as Postfix: this proves the protection above is the setting's doing.
        await using var edge = await EdgeInstance.StartAsync("smtpd_forbid_bare_newline = no\nsmtpd_forbid_unauth_pipelining = no");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("sender@example.org", "postmaster@localhost");
        await c.CommandAsync("DATA");
        await c.SendAsync(Encoding.Latin1.GetBytes(Smuggled("\n.\n") + ".\r\nQUIT\r\n"));
        string replies = await c.ReadAvailableAsync(TimeSpan.FromSeconds(2));
        Assert.Equal(2, (await edge.QueuedAsync()).Count);
        Assert.Contains("354", replies);
    }

    [Fact]
    public async Task Default_exclusions_cover_mynetworks_only()
    {
        await using var edge = await EdgeInstance.StartAsync("mynetworks = 192.0.2.0/24");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("sender@example.org", "postmaster@localhost");
        await c.CommandAsync("DATA");
        await c.SendAsync(Encoding.Latin1.GetBytes(Smuggled("\n.\n") + ".\r\nQUIT\r\n"));
        await c.ReadAvailableAsync(TimeSpan.FromSeconds(2));
        Assert.Single(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Reject_mode_refuses_bare_lf_content_after_the_real_end()
    {
        await using var edge = await EdgeInstance.StartAsync(Protected + "\nsmtpd_forbid_bare_newline = reject");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("sender@example.org", "postmaster@localhost");
        await c.CommandAsync("DATA");
        Assert.Equal("550 5.5.2 mx.edge.test Error: bare <LF> received",
            await c.CommandAsync("Subject: x\r\n\r\nline one\nline two\r\n."));
        Assert.Empty(await edge.QueuedAsync());
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
    }

    [Fact]
    public async Task Reject_mode_with_521_closes_after_data()
    {
        await using var edge = await EdgeInstance.StartAsync(Protected +
            "\nsmtpd_forbid_bare_newline = reject\nsmtpd_forbid_bare_newline_reject_code = 521");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("sender@example.org", "postmaster@localhost");
        await c.CommandAsync("DATA");
        Assert.Equal("521 5.5.2 mx.edge.test Error: bare <LF> received", await c.CommandAsync("x\ny\r\n."));
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task Reject_mode_refuses_bare_lf_in_bdat_chunks()
    {
        await using var edge = await EdgeInstance.StartAsync(Protected + "\nsmtpd_forbid_bare_newline = reject");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync("sender@example.org", "postmaster@localhost");
        Assert.Equal("550 5.5.2 mx.edge.test Error: bare <LF> received", await c.BdatAsync("a\nb"));
        Assert.Equal("551 5.0.0 Discarded 3 bytes after earlier error", await c.BdatAsync("c\r\n", last: true));
        Assert.Empty(await edge.QueuedAsync());
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
    }

    [Fact]
    public async Task Reject_mode_closes_on_a_bare_lf_command()
    {
        await using var edge = await EdgeInstance.StartAsync(Protected + "\nsmtpd_forbid_bare_newline = reject");
        await using var c = await edge.ConnectAsync();
        await c.SendAsync("NOOP\n");
        Assert.Equal("550 5.5.2 mx.edge.test Error: bare <LF> received", await c.ReadReplyAsync());
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task Normalize_mode_stores_bare_lf_lines_with_crlf()
    {
        await using var edge = await EdgeInstance.StartAsync(Protected);
        await using var c = await edge.ConnectAsync();
        await c.SendAsync("EHLO client.example\n");
        Assert.StartsWith("250-", await c.ReadReplyAsync());
        await c.CommandAsync("MAIL FROM:<sender@example.org>");
        await c.CommandAsync("RCPT TO:<postmaster@localhost>");
        await c.CommandAsync("DATA");
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: x\n\nbare\nlines\rcr\r\n."));
        Assert.EndsWith("Subject: x\r\n\r\nbare\r\nlines\rcr\r\n", await edge.SingleMessageContentAsync());
    }
}
