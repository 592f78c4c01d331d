using System.Text.RegularExpressions;
using Edge.Config;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// check_policy_script: JavaScript policies answering with access(5) actions, over a real socket, and the
/// example policies of policies/ as shipped.
/// </summary>
public class PolicyScriptTests
{
    private static string Shipped(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "policies", name));

    /// <summary>A server whose <paramref name="list"/> ends with the script; $SCRIPT in <paramref name="mainCf"/> is its path.</summary>
    private static async Task<EdgeInstance> StartAsync(string script, string list = "smtpd_recipient_restrictions", string mainCf = "")
    {
        var directory = new TempDirectory();
        directory.Write("policy.js", script);
        return await EdgeInstance.StartAsync(
            $"{list} = check_policy_script {directory.File("policy.js")}\n{mainCf}", reuse: directory, disposeDirectory: true);
    }

    private static async Task<string> RcptAsync(EdgeInstance edge, string recipient = "postmaster@localhost",
        string helo = "client.example", string sender = "sender@example.org")
    {
        await using var c = await edge.ConnectAsync();
        Assert.StartsWith("250", await c.CommandAsync($"EHLO {helo}"));
        Assert.StartsWith("250 ", await c.CommandAsync($"MAIL FROM:<{sender}> SIZE=1234"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    [Fact]
    public async Task The_script_sees_the_policy_protocols_attributes()
    {
        await using var edge = await StartAsync("""
            function policy(r) {
                return `REJECT ${r.request} ${r.protocol_state} ${r.protocol_name} ${r.helo_name} ${r.sender} ` +
                    `${r.recipient} ${r.recipient_count} ${r.client_address} ${r.client_name} ${r.size} ` +
                    `${r.server_address} ${typeof r.sasl_username}`;
            }
            """);
        Assert.Equal("554 5.7.1 <postmaster@localhost>: Recipient address rejected: smtpd_access_policy RCPT ESMTP " +
            "client.example sender@example.org postmaster@localhost 0 127.0.0.1 localhost 1234 127.0.0.1 string",
            await RcptAsync(edge));
    }

    [Theory]
    [InlineData("return 'DEFER 4.7.2 come back later';", "450 4.7.2 <postmaster@localhost>: Recipient address rejected: come back later")]
    [InlineData("return '421 4.7.0 not now';", "421 4.7.0 <postmaster@localhost>: Recipient address rejected: not now")]
    [InlineData("return 'OK';", "250 2.1.5 Ok")]
    [InlineData("return undefined;", "250 2.1.5 Ok")]
    [InlineData("return 'DUNNO';", "250 2.1.5 Ok")]
    [InlineData("return 'reject_unauth_destination';", "250 2.1.5 Ok")]
    [InlineData("return 'defer';", "450 4.7.1 <postmaster@localhost>: Recipient address rejected: Access denied")]
    [InlineData("return 'DEFER_IF_PERMIT 4.7.0 wait a little';", "450 4.7.0 <postmaster@localhost>: Recipient address rejected: wait a little")]
    [InlineData("return 'WARN looks odd';", "250 2.1.5 Ok")]
    [InlineData("return 'PREPEND not a header';", "451 4.3.5 Server configuration error")]
    public async Task Its_answer_is_an_access_table_action(string body, string reply)
    {
        await using var edge = await StartAsync($"function policy(request) {{ {body} }}");
        Assert.Equal(reply, await RcptAsync(edge));
    }

    [Fact]
    public async Task Prepended_headers_come_before_the_received_header()
    {
        await using var edge = await StartAsync("function policy(r) { return 'PREPEND X-Policy: checked ' + r.recipient; }");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.EnvelopeAsync();
        Assert.StartsWith("354 ", await c.CommandAsync("DATA"));
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        Assert.StartsWith("X-Policy: checked postmaster@localhost\r\nReceived: from client.example", await edge.SingleMessageContentAsync());
    }

    [Fact]
    public async Task A_reply_names_the_stage_of_the_list_that_asked()
    {
        await using var edge = await StartAsync("function policy(r) { return 'REJECT go away'; }", list: "smtpd_helo_restrictions");
        Assert.Equal("554 5.7.1 <client.example>: Helo command rejected: go away", await RcptAsync(edge));
    }

    [Fact]
    public async Task Pipelined_recipients_are_answered_in_order()
    {
        await using var edge = await StartAsync(
            "function policy(r) { return r.recipient.indexOf('no') === 0 ? 'REJECT not this one' : 'DUNNO'; }");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.SendAsync("MAIL FROM:<a@example.org>\r\nRCPT TO:<yes1@edge.test>\r\nRCPT TO:<no@edge.test>\r\nRCPT TO:<yes2@edge.test>\r\nDATA\r\n");
        Assert.Equal("250 2.1.0 Ok", await c.ReadReplyAsync());
        Assert.Equal("250 2.1.5 Ok", await c.ReadReplyAsync());
        Assert.Equal("554 5.7.1 <no@edge.test>: Recipient address rejected: not this one", await c.ReadReplyAsync());
        Assert.Equal("250 2.1.5 Ok", await c.ReadReplyAsync());
        Assert.StartsWith("354 ", await c.ReadReplyAsync());
        Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        var message = Assert.Single(await edge.QueuedAsync());
        Assert.Equal(["yes1@edge.test", "yes2@edge.test"], message.Recipients.Select(r => r.Address));
    }

    private const string DefaultReply = "451 4.3.5 <postmaster@localhost>: Recipient address rejected: Server configuration problem";

    [Theory]
    [InlineData("function policy(r) { return r.nothing.length; }")]
    [InlineData("function policy(r) { throw new Error('broken'); }")]
    [InlineData("function policy(r) { return policy(r); }")]
    [InlineData("function policy(r) { return /^(a+)+$/.test('a'.repeat(40) + '!') ? 'OK' : 'DUNNO'; }")]
    public async Task A_script_that_fails_answers_edge_policy_default_action(string script)
    {
        await using var edge = await StartAsync(script);
        Assert.Equal(DefaultReply, await RcptAsync(edge));
        await using var lenient = await StartAsync(script, mainCf: "edge_policy_default_action = DUNNO");
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(lenient));
    }

    /// <summary>Scripts are modern JavaScript: arrow functions, destructuring, classes, template literals, async functions.</summary>
    [Fact]
    public async Task A_script_in_todays_javascript_loads_and_runs()
    {
        await using var edge = await StartAsync("""
            class Verdict {
                constructor(code, text) { Object.assign(this, { code, text }); }
                toString() { return `${this.code} ${this.text}`; }
            }
            const domainOf = ({ recipient = '' }) => recipient.split('@').at(-1);
            const checks = [r => domainOf(r) === 'localhost' ? new Verdict('REJECT', `no mail for ${domainOf(r)}`) : null];
            async function policy(request) {
                const [first] = checks.map(check => check(request)).filter(Boolean);
                await Promise.resolve();
                return first?.toString() ?? 'DUNNO';
            }
            """);
        Assert.Equal("554 5.7.1 <postmaster@localhost>: Recipient address rejected: no mail for localhost", await RcptAsync(edge));
    }

    /// <summary>
    /// check_policy_script in smtpd_data_restrictions: asked at DATA and at the first BDAT (protocol_state DATA), its
    /// refusal is the command's reply ("Data command rejected", as Postfix words it) and nothing is queued; DUNNO lets
    /// the message in.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_policy_in_smtpd_data_restrictions_answers_at_DATA_and_BDAT(bool bdat)
    {
        await using var edge = await StartAsync(
            "function policy(r) { return r.protocol_state === 'DATA' && r.recipient_count === '2' ? 'REJECT two is too many' : 'DUNNO'; }",
            list: "smtpd_data_restrictions");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.EnvelopeAsync(to: "one@edge.test");
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<two@edge.test>"));
        Assert.Equal("554 5.7.1 <DATA>: Data command rejected: two is too many",
            bdat ? await c.BdatAsync("Subject: x\r\n\r\nx\r\n", last: true) : await c.CommandAsync("DATA"));
        Assert.Empty(await edge.QueuedAsync());
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
        await c.EnvelopeAsync(to: "one@edge.test");
        string reply = bdat ? await c.BdatAsync("Subject: x\r\n\r\nx\r\n", last: true) : await c.CommandAsync("DATA");
        Assert.StartsWith(bdat ? "250 2.0.0 Ok" : "354 ", reply);
        if (!bdat)
        {
            Assert.StartsWith("250 2.0.0 Ok", await c.CommandAsync("Subject: x\r\n\r\nx\r\n."));
        }
        Assert.Single(await edge.QueuedAsync());
    }

    /// <summary>A script may answer each stage with its own function (rcpt, data …); policy() answers the stages it has none for.</summary>
    [Fact]
    public async Task Stage_functions_answer_their_own_stage()
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", """
            const rcpt = ({ recipient }) => recipient.startsWith('no') ? 'REJECT not at RCPT' : 'DUNNO';
            function data(r) { return `REJECT data sees ${r.recipient_count} recipient(s)`; }
            """);
        string script = directory.File("policy.js");
        await using var edge = await EdgeInstance.StartAsync(
            $"smtpd_recipient_restrictions = check_policy_script {script}\nsmtpd_data_restrictions = check_policy_script {script}", reuse: directory);
        await using var c = await edge.ConnectAsync();
        await c.EnvelopeAsync(to: "yes@edge.test");
        Assert.Equal("554 5.7.1 <no@edge.test>: Recipient address rejected: not at RCPT", await c.CommandAsync("RCPT TO:<no@edge.test>"));
        Assert.Equal("554 5.7.1 <DATA>: Data command rejected: data sees 1 recipient(s)", await c.CommandAsync("DATA"));
    }

    /// <summary>tables.lookup asks any table type main.cf takes for exactly one key; net.inCidr tests an address against a network.</summary>
    [Theory]
    [InlineData("postmaster@localhost", "554 5.7.1 <postmaster@localhost>: Recipient address rejected: listed for 127.0.0.1")]
    [InlineData("abuse@localhost", "250 2.1.5 Ok")]
    public async Task A_script_looks_up_tables_and_tests_networks(string recipient, string reply)
    {
        using var directory = new TempDirectory();
        directory.Write("listed", "/^postmaster@/ listed\n");
        directory.Write("policy.js", $$"""
            function policy(r) {
                const inLoopback = net.inCidr(r.client_address, '127.0.0.0/8') && !net.inCidr(r.client_address, '::1/128');
                const listed = tables.lookup('regexp:{{directory.File("listed")}}', r.recipient);
                const exact = tables.lookup('inline:{ { abuse@localhost = yes } }', r.recipient);
                return inLoopback && listed ? `REJECT ${listed} for ${r.client_address}` : exact === 'yes' || listed === null ? 'DUNNO' : 'DEFER odd';
            }
            """);
        await using var edge = await EdgeInstance.StartAsync($"smtpd_recipient_restrictions = check_policy_script {directory.File("policy.js")}", reuse: directory);
        Assert.Equal(reply, await RcptAsync(edge, recipient));
    }

    /// <summary>
    /// A table a server answers is asked with await tables.lookupAsync, which holds no thread while the server answers
    /// (edge.table.lookups counts no blocking lookup); its failure is an Error the script may catch. tables.lookup
    /// refuses such a table every time, cached or not, so that a script cannot hold a thread by accident.
    /// </summary>
    [Fact]
    public async Task A_script_asks_a_table_a_server_answers_without_holding_a_thread()
    {
        await using var server = new SocketmapServer
        {
            Answer = request => request switch
            {
                "users closed@edge.test" => "OK mailbox closed",
                "users down@edge.test" => "TEMP directory restarting",
                _ => "NOTFOUND ",
            },
            Delay = TimeSpan.FromMilliseconds(50),
        };
        string table = $"socketmap:inet:127.0.0.1:{server.Port}:users";
        using var meter = new TableLookupMeter(table);
        await using var edge = await StartAsync($$"""
            async function policy(r) {
                if (r.recipient === 'sync@edge.test') {
                    try { tables.lookup('{{table}}', r.recipient); } catch (e) { return `REJECT ${e.message}`; }
                }
                try {
                    const found = await tables.lookupAsync('{{table}}', r.recipient);
                    const local = await tables.lookupAsync('inline:{ { ann@edge.test = from a file } }', r.recipient);
                    return found !== null ? `REJECT ${found}` : local !== null ? `REJECT ${local}` : 'DUNNO';
                } catch (e) {
                    return `DEFER ${e.message}`;
                }
            }
            """, mainCf: "edge_table_cache_time = 0\nedge_table_negative_cache_time = 0");
        Assert.Equal("554 5.7.1 <closed@edge.test>: Recipient address rejected: mailbox closed", await RcptAsync(edge, "closed@edge.test"));
        Assert.Equal("554 5.7.1 <ann@edge.test>: Recipient address rejected: from a file", await RcptAsync(edge, "ann@edge.test"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "open@edge.test"));
        Assert.StartsWith($"450 4.7.1 <down@edge.test>: Recipient address rejected: table {table} lookup error", await RcptAsync(edge, "down@edge.test"));
        Assert.Equal($"554 5.7.1 <sync@edge.test>: Recipient address rejected: tables.lookup: {table} is answered by a server: " +
            "ask it with await tables.lookupAsync()", await RcptAsync(edge, "sync@edge.test"));
        Assert.Equal(4, meter["server"]);
        Assert.Equal(0, meter["server_blocking"]);
    }

    [Theory]
    [InlineData("tables.lookup('hash:/nonexistent/table', 'x')", "Error: tables.lookup: hash:/nonexistent/table: ")]
    [InlineData("net.inCidr('192.0.2.1', 'not a network')", "Error: net.inCidr: \"not a network\" is not an address or network/bits")]
    public async Task A_table_that_cannot_be_opened_or_a_bad_network_is_the_scripts_error(string call, string message)
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", $"function policy(r) {{\n  return {call} ? 'OK' : 'DUNNO';\n}}\n");
        var (exit, _, error) = await EdgeProcess.RunAsync(directory.Path, "policy", "test", directory.File("policy.js"));
        Assert.Equal(1, exit);
        Assert.StartsWith($"edge policy: check_policy_script {directory.File("policy.js")}, line 2: {message}", error);
    }

    /// <summary>Edge as a process (its mail log to read) with the script in smtpd_recipient_restrictions, and a client at MAIL FROM.</summary>
    private static async Task<(EdgeProcess, SmtpConnection)> StartProcessAsync(TempDirectory config, string script, string mainCf = "")
    {
        config.Write("policy.js", script);
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) +
            $"\nsmtpd_recipient_restrictions = check_policy_script {config.File("policy.js")}\n{mainCf}\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        EdgeProcess edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        SmtpConnection c = await SmtpConnection.OpenAsync(edge.Port);
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        return (edge, c);
    }

    [Fact]
    public async Task Failures_and_the_scripts_own_lines_reach_the_mail_log_with_file_and_line()
    {
        using var config = new TempDirectory();
        (EdgeProcess edge, SmtpConnection c) = await StartProcessAsync(config,
            "function policy(r) {\n  log('asked about ' + r.recipient);\n  return r.missing.length;\n}\n");
        await using var _ = edge;
        await using var __ = c;
        Assert.Equal(DefaultReply, await c.CommandAsync("RCPT TO:<postmaster@localhost>"));
        await edge.WaitForLogAsync(@"edge/smtpd\[\d+\]: policy policy\.js: asked about postmaster@localhost");
        await edge.WaitForLogAsync($@"warning: check_policy_script {Regex.Escape(config.File("policy.js"))}, line 3: TypeError: .*; default action ""451 4\.3\.5 Server configuration problem""");
    }

    /// <summary>A script that loops is interrupted at edge_policy_time_limit, logged with the line it was at; its thread serves on.</summary>
    [Fact]
    public async Task A_looping_script_is_interrupted_at_the_time_limit_and_others_are_still_answered()
    {
        using var config = new TempDirectory();
        (EdgeProcess edge, SmtpConnection c) = await StartProcessAsync(config,
            "function policy(r) {\n  if (r.recipient.startsWith('loop')) {\n    for (;;) {}\n  }\n  return 'REJECT answered';\n}\n",
            "edge_policy_time_limit = 200ms");
        await using var _ = edge;
        await using var __ = c;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("451 4.3.5 <loop@edge.test>: Recipient address rejected: Server configuration problem", await c.CommandAsync("RCPT TO:<loop@edge.test>"));
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(5));
        await edge.WaitForLogAsync($@"warning: check_policy_script {Regex.Escape(config.File("policy.js"))}, line 3: stopped by edge_policy_time_limit \(200 ms\)");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("554 5.7.1 <postmaster@localhost>: Recipient address rejected: answered", await c.CommandAsync("RCPT TO:<postmaster@localhost>"));
        }
    }

    [Theory]
    [InlineData("function policy(r) {\n  return 'OK'\n}}\n", "line 3")]
    [InlineData("function other(r) { return 'OK'; }", "the script defines no function policy(request) and none for a stage (connect(request), helo(request)")]
    [InlineData("throw new Error('at load');", "line 1: Error: at load")]
    [InlineData("for (;;) {}\nfunction policy(r) { return 'OK'; }", "line 1: stopped by edge_policy_statement_limit (100000 statements)")]
    [InlineData("function policy(r) { return 'OK'; }\nconst grow = []; for (;;) { grow.push('x'.repeat(4096)); }", "stopped by edge_policy_memory_limit (67108864 bytes)")]
    public async Task A_broken_script_stops_start_up_naming_its_file_and_line(string script, string message)
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", script);
        var e = await Assert.ThrowsAsync<ConfigException>(() => EdgeInstance.StartAsync(
            $"smtpd_recipient_restrictions = check_policy_script {directory.File("policy.js")}\nedge_policy_statement_limit = 100000", reuse: directory));
        Assert.Contains("parameter smtpd_recipient_restrictions: check_policy_script ", e.Message);
        Assert.Contains($"{directory.File("policy.js")}", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("smtpd_recipient_restrictions = check_policy_script /nonexistent/policy.js", "/nonexistent/policy.js")]
    [InlineData("smtpd_recipient_restrictions = check_policy_script", "\"check_policy_script\" needs a script file after it")]
    public async Task A_missing_or_misplaced_script_stops_start_up(string line, string message)
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", "function policy(r) { return 'DUNNO'; }");
        var e = await Assert.ThrowsAsync<ConfigException>(() => EdgeInstance.StartAsync(line.Replace("$DIR", directory.Path), reuse: directory));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task An_access_table_cannot_start_a_script()
    {
        await using var edge = await EdgeInstance.StartAsync(
            "smtpd_recipient_restrictions = check_recipient_access inline:{ { postmaster@localhost = check_policy_script /etc/passwd } }");
        Assert.Equal("451 4.3.5 Server configuration error", await RcptAsync(edge));
    }

    [Theory]
    [InlineData("192.0.2.7", "554 5.5.2 <192.0.2.7>: Helo command rejected: Use [192.0.2.7]: an address literal needs its brackets")]
    [InlineData("MX.example.com", "554 5.7.1 <MX.example.com>: Helo command rejected: You are not me")]
    [InlineData("[192.0.2.7]", "250 2.1.5 Ok")]
    [InlineData("mail.client.example", "250 2.1.5 Ok")]
    public async Task The_shipped_helo_policy_refuses_bare_addresses_and_our_own_name(string helo, string reply)
    {
        await using var edge = await StartAsync(Shipped("helo-sanity.js"), list: "smtpd_helo_restrictions");
        Assert.Equal(reply, await RcptAsync(edge, helo: helo));
    }

    [Fact]
    public async Task The_shipped_greylisting_policy_lets_a_retry_through_after_the_delay()
    {
        await using var edge = await StartAsync(Shipped("greylist.js").Replace("const DELAY_SECONDS = 300;", "const DELAY_SECONDS = 1;"));
        Assert.Equal("450 4.2.0 <postmaster@localhost>: Recipient address rejected: Greylisted: please try again in 1 seconds", await RcptAsync(edge));
        Assert.Equal("450 4.2.0 <postmaster@localhost>: Recipient address rejected: Greylisted: please try again later", await RcptAsync(edge));
        // Another triplet waits on its own.
        Assert.StartsWith("450 4.2.0 ", await RcptAsync(edge, sender: "other@example.org"));
        await Task.Delay(1100);
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge));
    }

    [Fact]
    public async Task The_shipped_rate_limit_slows_down_a_client_past_its_limit()
    {
        await using var edge = await StartAsync(Shipped("rate-limit.js").Replace("const LIMIT = 100;", "const LIMIT = 3;"),
            list: "smtpd_client_restrictions");
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<bulk@example.org>");
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync($"RCPT TO:<user{i}@edge.test>"));
        }
        Assert.Equal("450 4.7.1 <localhost[127.0.0.1]>: Client host rejected: Too many recipients from 127.0.0.1; slow down",
            await c.CommandAsync("RCPT TO:<user4@edge.test>"));
    }
}
