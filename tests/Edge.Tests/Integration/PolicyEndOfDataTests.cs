using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// smtpd_end_of_data_restrictions: access tables and policies at the end of the message, and policy scripts'
/// endOfData(message), which sees the headers, the MIME parts and the start of the body and may answer any access(5)
/// action.
/// </summary>
public class PolicyEndOfDataTests
{
    private static string Shipped(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "policies", name));

    private static async Task<EdgeInstance> StartAsync(string script, string mainCf = "")
    {
        var directory = new TempDirectory();
        directory.Write("policy.js", script);
        return await EdgeInstance.StartAsync(
            $"smtpd_end_of_data_restrictions = check_policy_script {directory.File("policy.js")}\n{mainCf}", reuse: directory, disposeDirectory: true);
    }

    private const string WithAttachment = """
        Subject: =?UTF-8?B?UmVjaG51bmcgw7xiZXIgMTAwIOKCrA==?=
        From: "Sender" <sender@example.org>
        MIME-Version: 1.0
        Content-Type: multipart/mixed; boundary="b1"

        --b1
        Content-Type: text/plain; charset=utf-8

        Please find the invoice attached.
        --b1
        Content-Type: application/octet-stream; name="{NAME}"
        Content-Disposition: attachment; filename*=UTF-8''{NAME}
        Content-Transfer-Encoding: base64

        TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
        --b1--

        """;

    private static string Message(string name) => WithAttachment.Replace("{NAME}", name).ReplaceLineEndings("\r\n");

    [Fact]
    public async Task End_of_data_sees_headers_decoded_parts_body_and_envelope()
    {
        await using var edge = await StartAsync("""
            function endOfData(m) {
                const subject = m.headers.find(h => h.name === 'Subject');
                const parts = m.parts.map(p => `${p.contentType}/${p.disposition}/${p.filename}/${p.headers.length}`).join(' ');
                return `REJECT ${m.protocol_state} ${m.recipients.join(',')} ${m.sender} ${typeof m.size} ${m.size > 500} ` +
                    `[${subject.decoded}] [${subject.value}] ${m.headers[0].name} ${parts} [${m.body}]`;
            }
            """, "edge_policy_body_limit = 12");
        Assert.Equal("554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: END-OF-MESSAGE user@edge.test,other@edge.test sender@example.org " +
            "number true [Rechnung über 100 €] [=?UTF-8?B?UmVjaG51bmcgw7xiZXIgMTAwIOKCrA==?=] Received " +
            "multipart/mixed/null/null/1 text/plain/null/null/1 application/octet-stream/attachment/ünïcode.pdf/3 [--b1??Conten]",
            await edge.SendAsync(Message("ünïcode.pdf"), false, "user@edge.test", "other@edge.test"));
        Assert.Empty(await edge.QueuedAsync());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_shipped_attachment_policy_refuses_programs_and_passes_documents(bool bdat)
    {
        await using var edge = await StartAsync(Shipped("attachments.js"));
        Assert.Equal("554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Executable attachments are not accepted (\"invoice.pdf.exe\"); please share the file another way",
            await edge.SendAsync(Message("invoice.pdf.exe"), bdat));
        Assert.Matches("^250 2.0.0 Ok: (\\d+ bytes )?queued as ", await edge.SendAsync(Message("invoice.pdf"), bdat));
        Assert.Single(await edge.QueuedAsync());
    }

    [Fact]
    public async Task Every_action_of_access_5_works_at_the_end_of_the_data()
    {
        await using var edge = await StartAsync("""
            function endOfData(m) {
                const subject = m.headers.find(h => h.name === 'Subject').decoded;
                switch (subject) {
                    case 'hold': return 'HOLD scanned later';
                    case 'discard': return 'DISCARD';
                    case 'redirect': return 'REDIRECT moved@edge.test';
                    case 'bcc': return 'BCC archive@edge.test';
                    case 'filter': return 'FILTER amavis:[127.0.0.1]:10024';
                    case 'prepend': return 'PREPEND X-Scanned: by endOfData';
                    case 'defer': return 'DEFER come back later';
                    default: return 'DUNNO';
                }
            }
            """);
        async Task<string> IdAsync(string subject) => (await edge.SendAsync($"Subject: {subject}\r\n\r\nbody\r\n", false)).Split(' ')[^1];
        string held = await IdAsync("hold");
        Assert.True(edge.Queue.Entries.Single(e => e.Id.ToString() == held).Hold);
        string gone = await IdAsync("discard");
        Assert.DoesNotContain(edge.Queue.Entries, e => e.Id.ToString() == gone);
        string moved = await IdAsync("redirect");
        Assert.Equal(["moved@edge.test"], (await edge.QueuedAsync()).Single(m => m.Id.ToString() == moved).Recipients.Select(r => r.Address));
        string copied = await IdAsync("bcc");
        Assert.Equal(["user@edge.test", "archive@edge.test"], (await edge.QueuedAsync()).Single(m => m.Id.ToString() == copied).Recipients.Select(r => r.Address));
        string scanned = await IdAsync("filter");
        Assert.Equal("amavis:[127.0.0.1]:10024", edge.Queue.Entries.Single(e => e.Id.ToString() == scanned).Filter);
        Assert.Equal("450 4.7.1 <END-OF-MESSAGE>: End-of-data rejected: come back later", await edge.SendAsync("Subject: defer\r\n\r\nbody\r\n", false));
        string prepended = await IdAsync("prepend");
        using var content = new MemoryStream();
        await edge.Queue.CopyContentAsync((await edge.QueuedAsync()).Single(m => m.Id.ToString() == prepended), content);
        Assert.StartsWith("X-Scanned: by endOfData\r\nReceived: from client.example", System.Text.Encoding.UTF8.GetString(content.ToArray()));
    }

    [Fact]
    public async Task Access_tables_and_plain_restrictions_answer_at_the_end_of_the_data()
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync("smtpd_end_of_data_restrictions = check_sender_access inline:{ { spam@example.org = REJECT no thanks } }, permit",
            reuse: directory);
        await using (var c = await edge.ConnectAsync())
        {
            await c.EnvelopeAsync("spam@example.org", "user@edge.test");
            await c.CommandAsync("DATA");
            // As in Postfix, a sender check names the sender, whatever list it is in.
            Assert.Equal("554 5.7.1 <spam@example.org>: Sender address rejected: no thanks", await c.CommandAsync("Subject: x\r\n\r\nbody\r\n."));
            // The session goes on: the next transaction is judged on its own.
            await c.EnvelopeAsync("friend@example.org", "user@edge.test");
            await c.CommandAsync("DATA");
            Assert.StartsWith("250 2.0.0 Ok: queued as ", await c.CommandAsync("Subject: x\r\n\r\nbody\r\n."));
        }
        Assert.Single(await edge.QueuedAsync());
        await using var plain = await EdgeInstance.StartAsync("smtpd_end_of_data_restrictions = permit_mynetworks, reject\nmynetworks = 192.0.2.0/24");
        Assert.Equal("554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: Access denied", await plain.SendAsync("Subject: x\r\n\r\nbody\r\n", false));
        Assert.Empty(await plain.QueuedAsync());
    }

    [Fact]
    public async Task A_script_without_end_of_data_answers_it_with_policy_and_the_real_size()
    {
        await using var edge = await StartAsync("function policy(r) { return `REJECT ${r.protocol_state} ${Number(r.size) > 1000}`; }");
        Assert.Equal("554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: END-OF-MESSAGE true",
            await edge.SendAsync("Subject: big\r\n\r\n" + new string('x', 2000) + "\r\n", false));
    }

    [Fact]
    public async Task End_of_data_restrictions_with_a_before_queue_filter_stop_start_up()
    {
        using var directory = new TempDirectory();
        var e = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() => EdgeInstance.StartAsync(
            "smtpd_end_of_data_restrictions = reject\nsmtpd_proxy_filter = 127.0.0.1:10025", reuse: directory));
        Assert.Contains("smtpd_end_of_data_restrictions: is not supported together with smtpd_proxy_filter yet", e.Message);
    }
}
