using System.Text;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>Clients that push the server's limits: long sessions, clients that do not read, odd bytes.</summary>
public class HostileClientTests
{
    [Fact]
    public async Task Many_bdat_chunks_are_not_counted_as_errors()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_soft_error_limit = 2\nsmtpd_hard_error_limit = 3");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 25; i++)
        {
            Assert.Equal("250 2.0.0 Ok: 10 bytes", await c.BdatAsync("chunk " + i.ToString("D2") + "\r\n"));
        }
        Assert.StartsWith("250 2.0.0 Ok: ", await c.BdatAsync("end\r\n", last: true));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"chunks were slowed down: {clock.Elapsed}");
        Assert.Single(await edge.QueuedAsync());
    }

    [Fact]
    public async Task A_client_that_pipelines_without_reading_times_out()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_timeout = 1s");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        byte[] flood = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("HELP\r\n", 10_000)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool refused = false;
        while (!refused && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            using var blocked = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            try
            {
                await c.SendAsync(flood).WaitAsync(blocked.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                // The server stopped reading (its replies are not being read) or already hung up.
                refused = true;
            }
        }
        Assert.True(refused, "the server kept reading commands whose replies nobody reads");
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task Starttls_still_works_for_a_client_past_the_soft_error_limit()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(TestCertificate.MainCf(directory) +
            "\nsmtpd_soft_error_limit = 1\nsmtpd_error_sleep_time = 1s");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.StartsWith("500", await c.CommandAsync("BOGUS"));
        Assert.Equal("220 2.0.0 Ready to start TLS", await c.CommandAsync("STARTTLS"));
        await c.StartTlsAsync();
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
    }

    [Fact]
    public async Task An_over_long_bdat_line_cannot_shift_the_chunk()
    {
        await using var edge = await EdgeInstance.StartAsync("line_length_limit = 600");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync();
        await c.SendAsync("BDAT 5" + new string(' ', 3000) + "\r\nhello");
        Assert.Equal("521 5.5.4 Syntax: BDAT count [LAST]", await c.ReadReplyAsync());
        Assert.True(await c.IsClosedAsync());
    }

    [Fact]
    public async Task An_over_long_data_line_is_a_syntax_error()
    {
        await using var edge = await EdgeInstance.StartAsync("line_length_limit = 600");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync();
        Assert.Equal("501 5.5.4 Syntax: DATA", await c.CommandAsync("DATA" + new string(' ', 3000)));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("NOOP"));
    }

    [Theory]
    [InlineData("RCPT TO:<\"a\\\rBcc: x\"@localhost>")]
    [InlineData("RCPT TO:<\"a\\\u007f\"@localhost>")]
    public async Task Control_characters_cannot_be_escaped_into_addresses(string command)
    {
        await using var edge = await EdgeInstance.StartAsync();
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        Assert.Equal("501 5.1.3 Bad recipient address syntax", await c.CommandAsync(command));
    }

    [Fact]
    public async Task An_envelope_too_large_for_one_record_gets_too_many_recipients()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_forbid_unauth_pipelining = no");
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync();
        string local = new string('r', 1000);
        string last = "";
        for (int i = 0; i < 300 && !last.StartsWith("452"); i++)
        {
            last = await c.CommandAsync($"RCPT TO:<{local}{i}@edge.test>");
        }
        Assert.Equal("452 4.5.3 Error: too many recipients", last);
        await c.CommandAsync("DATA");
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: wide\r\n\r\nx\r\n."));
    }
}
