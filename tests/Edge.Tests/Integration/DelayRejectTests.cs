using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// smtpd_delay_reject = no: the client restrictions run when the client connects, the helo restrictions at HELO or
/// EHLO and the sender restrictions at MAIL FROM, each answering its own command as Postfix does; policy scripts'
/// connect, helo and mail functions are called then.
/// </summary>
public class DelayRejectTests
{
    private static Task<EdgeInstance> StartAsync(string mainCf, TempDirectory? directory = null) =>
        EdgeInstance.StartAsync("smtpd_delay_reject = no\n" + mainCf, reuse: directory);

    [Fact]
    public async Task A_client_refused_at_connect_hears_it_instead_of_the_greeting_and_503_after()
    {
        await using var edge = await StartAsync("smtpd_client_restrictions = check_client_access inline:{ { 127.0.0.1 = REJECT go away } }");
        await using var c = await edge.ConnectAsync(readGreeting: false);
        Assert.Equal("554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: go away", await c.ReadReplyAsync());
        Assert.Equal("503 5.7.0 Error: access denied for localhost[127.0.0.1]", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("503 5.7.0 Error: access denied for localhost[127.0.0.1]", await c.CommandAsync("MAIL FROM:<a@example.org>"));
        Assert.Equal("503 5.7.0 Error: access denied for localhost[127.0.0.1]", await c.CommandAsync("XYZZY"));
        Assert.StartsWith("221 ", await c.CommandAsync("QUIT"));
    }

    [Fact]
    public async Task A_client_told_421_at_connect_is_hung_up_on()
    {
        await using var edge = await StartAsync("smtpd_client_restrictions = check_client_access inline:{ { 127.0.0.1 = 421 4.7.0 too busy } }");
        await using var c = await edge.ConnectAsync(readGreeting: false);
        Assert.Equal("421 4.7.0 <localhost[127.0.0.1]>: Client host rejected: too busy", await c.ReadReplyAsync());
        await Assert.ThrowsAsync<IOException>(() => c.CommandAsync("EHLO client.example"));
    }

    [Fact]
    public async Task Helo_and_sender_restrictions_answer_their_own_commands()
    {
        await using var edge = await StartAsync("""
            smtpd_helo_restrictions = reject_invalid_helo_hostname
            smtpd_sender_restrictions = check_sender_access inline:{ spam@example.org=REJECT }
            """);
        await using var c = await edge.ConnectAsync();
        Assert.Equal("501 5.5.2 <bad_name!>: Helo command rejected: Invalid name", await c.CommandAsync("EHLO bad_name!"));
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("554 5.7.1 <spam@example.org>: Sender address rejected: Access denied", await c.CommandAsync("MAIL FROM:<spam@example.org>"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<friend@example.org>"));
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<user@edge.test>"));
    }

    [Fact]
    public async Task With_delay_reject_yes_the_same_lists_wait_for_rcpt()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_sender_restrictions = check_sender_access inline:{ spam@example.org=REJECT }");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<spam@example.org>"));
        Assert.Equal("554 5.7.1 <spam@example.org>: Sender address rejected: Access denied", await c.CommandAsync("RCPT TO:<user@edge.test>"));
    }

    [Fact]
    public async Task Message_actions_are_skipped_in_client_and_helo_restrictions_as_postfix_does()
    {
        await using var edge = await StartAsync("""
            smtpd_client_restrictions = check_client_access inline:{ 127.0.0.1=HOLD }
            smtpd_sender_restrictions = check_sender_access inline:{ held@example.org=HOLD }
            """);
        async Task<string> SendAsync(string sender)
        {
            await using var c = await edge.ConnectAsync();
            await c.EnvelopeAsync(sender, "user@edge.test");
            await c.CommandAsync("DATA");
            return (await c.CommandAsync("Subject: x\r\n\r\nbody\r\n.")).Split(' ')[^1];
        }
        string free = await SendAsync("free@example.org");
        Assert.False(edge.Queue.Entries.Single(e => e.Id.ToString() == free).Hold);
        string held = await SendAsync("held@example.org");
        Assert.True(edge.Queue.Entries.Single(e => e.Id.ToString() == held).Hold);
    }

    [Fact]
    public async Task A_policy_script_answers_each_stage_with_its_own_function()
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", """
            const connect = r => r.client_address === '127.0.0.1' ? 'DUNNO' : 'REJECT not local';
            function helo(r) { return r.helo_name.endsWith('.invalid') ? `REJECT ${r.protocol_state} ${r.helo_name} is invalid` : 'DUNNO'; }
            async function mail({ protocol_state, sender }) {
                const seen = await store.increment('senders/' + sender, 60);
                return sender.startsWith('spam') ? `REJECT ${protocol_state} seen ${seen}` : 'DUNNO';
            }
            function rcpt(r) { return `REJECT ${r.protocol_state} ${r.sender} ${r.recipient}`; }
            """);
        string script = $"check_policy_script {directory.File("policy.js")}";
        await using var edge = await StartAsync($"""
            smtpd_client_restrictions = {script}
            smtpd_helo_restrictions = {script}
            smtpd_sender_restrictions = {script}
            smtpd_recipient_restrictions = reject_unauth_destination, {script}
            edge_policy_store = memory
            """, directory);
        await using var c = await edge.ConnectAsync();
        Assert.Equal("554 5.7.1 <mx.example.invalid>: Helo command rejected: EHLO mx.example.invalid is invalid",
            await c.CommandAsync("EHLO mx.example.invalid"));
        Assert.Equal("554 5.7.1 <other.invalid>: Helo command rejected: HELO other.invalid is invalid",
            await c.CommandAsync("HELO other.invalid"));
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("554 5.7.1 <spam@example.org>: Sender address rejected: MAIL seen 1", await c.CommandAsync("MAIL FROM:<spam@example.org>"));
        Assert.Equal("554 5.7.1 <spam@example.org>: Sender address rejected: MAIL seen 2", await c.CommandAsync("MAIL FROM:<spam@example.org>"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<friend@example.org>"));
        Assert.Equal("554 5.7.1 <user@edge.test>: Recipient address rejected: RCPT friend@example.org user@edge.test",
            await c.CommandAsync("RCPT TO:<user@edge.test>"));
    }
}
