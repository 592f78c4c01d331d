using Edge.Queue;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// What cleanup does to every message it queues, through real SMTP sessions: message_drop_headers, the duplicate
/// filter, hopcount_limit and header_size_limit, as Postfix's cleanup does them.
/// </summary>
public class CleanupTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Bcc_and_the_other_dropped_headers_are_gone_but_an_attached_message_keeps_its_own(bool bdat)
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(reuse: directory);
        string content = "Return-Path: <forged@example.org>\r\nBcc: hidden@example.org,\r\n\tsecond@example.org\r\n" +
            "Resent-Bcc: other@example.org\r\nContent-Length: 12\r\nSubject: x\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: message/rfc822\r\n\r\nBcc: inner@example.org\r\nSubject: inner\r\n\r\nbody\r\n";
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync(content, bdat));
        string stored = await edge.SingleMessageContentAsync();
        Assert.DoesNotContain("Return-Path:", stored);
        Assert.DoesNotContain("hidden@example.org", stored);
        Assert.DoesNotContain("second@example.org", stored);
        Assert.DoesNotContain("Resent-Bcc", stored);
        Assert.DoesNotContain("Content-Length", stored);
        Assert.Contains("\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\nBcc: inner@example.org\r\nSubject: inner\r\n\r\nbody\r\n", stored);
    }

    [Fact]
    public async Task Message_drop_headers_names_the_headers_to_drop()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync("message_drop_headers = x-internal", reuse: directory);
        Assert.StartsWith("250", await edge.SendAsync("X-Internal: secret\r\nBcc: kept@example.org\r\nSubject: x\r\n\r\nbody\r\n", bdat: false));
        string stored = await edge.SingleMessageContentAsync();
        Assert.DoesNotContain("X-Internal", stored);
        Assert.Contains("\r\nBcc: kept@example.org\r\nSubject: x\r\n", stored);
    }

    /// <summary>
    /// Postfix's duplicate filter compares the address exactly (a different case is another recipient) with its
    /// DSN attributes, and remembers duplicate_filter_limit addresses.
    /// </summary>
    [Fact]
    public async Task A_recipient_given_twice_is_queued_once()
    {
        using var directory = new TempDirectory();
        await using (var edge = await EdgeInstance.StartAsync(reuse: directory))
        {
            Assert.StartsWith("250", await edge.SendAsync("Subject: x\r\n\r\nbody\r\n", bdat: false,
                "user@edge.test", "other@edge.test", "user@edge.test", "User@edge.test"));
            Assert.Equal(["user@edge.test", "other@edge.test", "User@edge.test"],
                Assert.Single(await edge.QueuedAsync()).Recipients.Select(r => r.Address));
        }
        using var other = new TempDirectory();
        await using (var limited = await EdgeInstance.StartAsync("duplicate_filter_limit = 1", reuse: other))
        {
            Assert.StartsWith("250", await limited.SendAsync("Subject: x\r\n\r\nbody\r\n", bdat: true,
                "user@edge.test", "user@edge.test", "other@edge.test", "other@edge.test"));
            QueuedMessage message = Assert.Single(await limited.QueuedAsync());
            Assert.Equal(["user@edge.test", "other@edge.test", "other@edge.test"], message.Recipients.Select(r => r.Address));
        }
    }

    [Fact]
    public async Task Two_aliases_of_one_address_deliver_one_copy()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync(
            "virtual_alias_maps = inline:{ a@edge.test=target@edge.test, b@edge.test=target@edge.test }", reuse: directory);
        Assert.StartsWith("250", await edge.SendAsync("Subject: x\r\n\r\nbody\r\n", bdat: false, "a@edge.test", "b@edge.test"));
        Assert.Equal(["target@edge.test"], Assert.Single(await edge.QueuedAsync()).Recipients.Select(r => r.Address));
    }

    /// <summary>Edge's own Received: header counts: with hopcount_limit = 5, four earlier hops make a loop.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_message_with_too_many_received_headers_is_refused_as_a_loop(bool bdat)
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync("hopcount_limit = 5", reuse: directory);
        static string Hops(int n) => string.Concat(Enumerable.Range(0, n).Select(i => $"Received: from hop{i}.example by x; Sat, 5 Dec 2026 00:00:0{i} +0000\r\n"));
        Assert.Equal("554 5.4.0 Error: too many hops", await edge.SendAsync(Hops(4) + "Subject: loop\r\n\r\nbody\r\n", bdat));
        Assert.Empty(await edge.QueuedAsync());
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync(Hops(3) + "Subject: fine\r\n\r\nbody\r\n", bdat));
        Assert.Single(await edge.QueuedAsync());
    }

    [Fact]
    public async Task A_header_longer_than_header_size_limit_loses_its_excess()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync("header_size_limit = 300", reuse: directory);
        string subject = "Subject: start" + string.Concat(Enumerable.Range(0, 40).Select(i => $"\r\n\tfolded line number {i:D2}"));
        string long1 = "X-Long: " + new string('x', 1000);
        Assert.StartsWith("250", await edge.SendAsync($"{subject}\r\n{long1}\r\nX-After: yes\r\n\r\nbody line\r\n", bdat: false));
        string stored = await edge.SingleMessageContentAsync();
        string[] lines = stored.Split("\r\n");
        int start = Array.FindIndex(lines, l => l.StartsWith("Subject: start", StringComparison.Ordinal));
        int end = Array.FindIndex(lines, start + 1, l => !l.StartsWith('\t'));
        string kept = string.Join("\r\n", lines[start..end]);
        Assert.InRange(kept.Length, 250, 300);
        Assert.DoesNotContain("folded line number 39", stored);
        Assert.Contains("\r\nX-Long: " + new string('x', 292) + "\r\nX-After: yes\r\n", stored);
        Assert.DoesNotContain(new string('x', 300), stored);
        Assert.EndsWith("\r\nX-After: yes\r\n\r\nbody line\r\n", stored);
    }

    /// <summary>
    /// mime_boundary_length_limit: a boundary is recognised by its first that many bytes, as in Postfix, so a line that
    /// shares them starts a part (whose headers mime_header_checks then see).
    /// </summary>
    [Theory]
    [InlineData("", "250 2.0.0 Ok")]
    [InlineData("mime_boundary_length_limit = 5", "550 5.7.1 part header")]
    public async Task A_boundary_is_compared_over_mime_boundary_length_limit_bytes(string limit, string reply)
    {
        using var directory = new TempDirectory();
        directory.Write("mime", "/^X-Part:/ REJECT part header\n");
        await using var edge = await EdgeInstance.StartAsync($"mime_header_checks = regexp:{directory.File("mime")}\n{limit}", reuse: directory);
        string content = "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"abcdefghij\"\r\n\r\n" +
            "--abcdefghij\r\nContent-Type: text/plain\r\n\r\nline\r\n--abcdeZZZ\r\nX-Part: yes\r\n\r\nmore\r\n--abcdefghij--\r\n";
        Assert.StartsWith(reply, await edge.SendAsync(content, bdat: false));
    }

    /// <summary>mime_nesting_limit: a multipart deeper than the limit is not followed; its parts are body.</summary>
    [Theory]
    [InlineData("", "550 5.7.1 inner part header")]
    [InlineData("mime_nesting_limit = 1", "250 2.0.0 Ok")]
    public async Task Multiparts_are_followed_mime_nesting_limit_deep(string limit, string reply)
    {
        using var directory = new TempDirectory();
        directory.Write("mime", "/^X-Inner:/ REJECT inner part header\n");
        await using var edge = await EdgeInstance.StartAsync($"mime_header_checks = regexp:{directory.File("mime")}\n{limit}", reuse: directory);
        string content = "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n" +
            "--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n" +
            "--inner\r\nX-Inner: yes\r\n\r\ntext\r\n--inner--\r\n--outer--\r\n";
        Assert.StartsWith(reply, await edge.SendAsync(content, bdat: false));
    }
}
