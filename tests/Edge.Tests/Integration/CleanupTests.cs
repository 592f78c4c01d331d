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

    /// <summary>
    /// mime_nesting_limit, counted as Postfix counts (its nesting level starts at -1, so a multipart inside limit + 1
    /// others is the first one not followed): its parts are body, and with header checks the message is refused, as
    /// Postfix's cleanup reports MIME nesting errors only then; body_checks alone do not report it.
    /// </summary>
    [Theory]
    [InlineData("mime_header_checks = regexp:{0}", "550 5.7.1 inner part header")]
    [InlineData("mime_header_checks = regexp:{0}\nmime_nesting_limit = 3", "550 5.7.1 inner part header")]
    [InlineData("mime_header_checks = regexp:{0}\nmime_nesting_limit = 2", "550 5.6.0 MIME nesting exceeds safety limit")]
    [InlineData("header_checks = regexp:{1}\nmime_header_checks =\nnested_header_checks =\nmime_nesting_limit = 2", "550 5.6.0 MIME nesting exceeds safety limit")]
    [InlineData("body_checks = regexp:{1}\nmime_nesting_limit = 2", "250 2.0.0 Ok")]
    public async Task A_multipart_nested_deeper_than_mime_nesting_limit_is_not_followed(string config, string reply)
    {
        using var directory = new TempDirectory();
        directory.Write("mime", "/^X-Inner:/ REJECT inner part header\n");
        directory.Write("other", "/^X-Nothing-Matches-This:/ REJECT no\n");
        await using var edge = await EdgeInstance.StartAsync(string.Format(config, directory.File("mime"), directory.File("other")), reuse: directory);
        string content = "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n";
        foreach (string level in new[] { "b", "c", "d", "e" })
        {
            content += $"--{(char)(level[0] - 1)}\r\nContent-Type: multipart/mixed; boundary={level}\r\n\r\n";
        }
        content += "--e\r\nX-Inner: yes\r\n\r\ntext\r\n--e--\r\n--d--\r\n--c--\r\n--b--\r\n--a--\r\n";
        Assert.StartsWith(reply, await edge.SendAsync(content, bdat: false));
        Assert.Equal(reply.StartsWith('2') ? 1 : 0, (await edge.QueuedAsync()).Count);
    }

    /// <summary>
    /// strict_mime_encoding_domain: a multipart or attached message may only declare an identity encoding (7bit, 8bit,
    /// binary); base64 or quoted-printable there refuses the message, as Postfix's cleanup does. Leaf parts may use any.
    /// </summary>
    [Theory]
    [InlineData("yes", "multipart/mixed; boundary=z", "base64", "550 5.6.0 invalid message/* or multipart/* encoding domain")]
    [InlineData("yes", "multipart/mixed; boundary=z", "8bit", "250 2.0.0 Ok")]
    [InlineData("no", "multipart/mixed; boundary=z", "base64", "250 2.0.0 Ok")]
    [InlineData("yes", "text/plain", "base64", "250 2.0.0 Ok")]
    public async Task A_multipart_with_a_transformation_encoding_is_refused_with_strict_mime_encoding_domain(string strict, string type,
        string encoding, string reply)
    {
        await using var edge = await EdgeInstance.StartAsync($"strict_mime_encoding_domain = {strict}");
        string content = $"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: {type}\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n" +
            "--z\r\nContent-Type: text/plain\r\n\r\ntext\r\n--z--\r\n";
        Assert.StartsWith(reply, await edge.SendAsync(content, bdat: true));
    }

    /// <summary>strict_mime_encoding_domain applies to an attached message (message/rfc822) inside a multipart too.</summary>
    [Fact]
    public async Task An_attached_message_with_a_quoted_printable_encoding_is_refused_with_strict_mime_encoding_domain()
    {
        await using var edge = await EdgeInstance.StartAsync("strict_mime_encoding_domain = yes");
        string content = "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n" +
            "--z\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\nSubject: inner\r\n\r\nhi\r\n--z--\r\n";
        Assert.StartsWith("550 5.6.0 invalid message/* or multipart/* encoding domain", await edge.SendAsync(content, bdat: false));
        Assert.Empty(await edge.QueuedAsync());
    }
}
