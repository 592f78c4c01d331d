using System.Text;
using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// SMTP AUTH with smtpd_sasl_type = dovecot against Debian's Dovecot auth server (alice, password "x"): the same
/// session against Postfix 3.7 and Edge with the same main.cf gets the same replies; then what only Edge's side
/// shows (log lines, the Received: header, TLS-only AUTH, an auth server that is down, XCLIENT LOGIN).
/// </summary>
public class SmtpAuthTests
{
    private static string MainCf(Dovecot dovecot) => PostfixServer.ComparableMainCf + $"""

        smtpd_sasl_auth_enable = yes
        smtpd_sasl_type = dovecot
        smtpd_sasl_path = {dovecot.AuthSocket}
        smtpd_sender_login_maps = inline:{"{"} alice@edge.test=alice, bob@edge.test=bob {"}"}
        smtpd_sender_restrictions = reject_sender_login_mismatch
        """;

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    /// <summary>Every line of the session and the reply it got.</summary>
    private static async Task<List<string>> SessionAsync(int port, IEnumerable<string> lines)
    {
        await using SmtpConnection c = await SmtpConnection.OpenAsync(port);
        var replies = new List<string>();
        foreach (string line in lines)
        {
            replies.Add($"{line} -> {await c.CommandAsync(line)}");
        }
        return replies;
    }

    [Fact]
    public async Task Postfix_and_edge_answer_every_auth_command_alike()
    {
        await using Dovecot dovecot = await Dovecot.StartAsync();
        string mainCf = MainCf(dovecot);
        string[] session =
        [
            "EHLO client.example",
            "AUTH PLAIN " + Base64("\0alice\0wrong"),
            "AUTH FOO",
            "AUTH PLAIN !!!",
            "AUTH",
            "AUTH LOGIN",
            "*",
            "MAIL FROM:<alice@edge.test>",
            "RCPT TO:<carol@remote.example>",
            "RSET",
            "AUTH LOGIN",
            Base64("alice"),
            Base64("x"),
            "AUTH PLAIN " + Base64("\0alice\0x"),
            "MAIL FROM:<bob@edge.test>",
            "RCPT TO:<carol@remote.example>",
            "RSET",
            "MAIL FROM:<alice@edge.test> AUTH=<>",
            "RCPT TO:<carol@remote.example>",
            "RSET",
            "MAIL FROM:<alice@edge.test> AUTH=alice+40edge.test AUTH=<>",
            // RSET: Postfix keeps the first AUTH= of a refused MAIL FROM until then, and would answer the next as a duplicate.
            "RSET",
            "MAIL FROM:<alice@edge.test> AUTH=alice+4",
            "QUIT",
        ];
        await using PostfixServer postfix = await PostfixServer.StartAsync(mainCf);
        await using EdgeInstance edge = await EdgeInstance.StartAsync(mainCf);
        List<string> postfixReplies = await SessionAsync(postfix.Port, session);
        List<string> edgeReplies = await SessionAsync(edge.Port, session);
        Assert.True(postfixReplies.SequenceEqual(edgeReplies),
            $"postfix:\n{string.Join("\n", postfixReplies)}\n\nedge:\n{string.Join("\n", edgeReplies)}\n\n{postfix.Log}");
        Assert.Contains(edgeReplies, r => r.EndsWith("-> 235 2.7.0 Authentication successful", StringComparison.Ordinal));
        Assert.Contains(edgeReplies, r => r.Contains("250-AUTH PLAIN LOGIN", StringComparison.Ordinal));
    }

    /// <summary>An `edge run` process with the test base, <paramref name="mainCf"/> and one listener.</summary>
    private static async Task<EdgeProcess> StartProcessAsync(TempDirectory config, string mainCf)
    {
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\n" + mainCf + "\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        return await EdgeProcess.StartAsync(config.Path, config.Path);
    }

    /// <summary>
    /// An authenticated client relays (permit_sasl_authenticated); the queue ID's client= line names the login, and
    /// with smtpd_sasl_authenticated_header the Received: header does too, "with ESMTPA" as RFC 3848 says.
    /// </summary>
    [Fact]
    public async Task An_authenticated_client_relays_and_the_login_is_logged_and_named_in_received()
    {
        await using Dovecot dovecot = await Dovecot.StartAsync();
        using var config = new TempDirectory();
        await using EdgeProcess edge = await StartProcessAsync(config, MainCf(dovecot) + "\nsmtpd_sasl_authenticated_header = yes");
        await using SmtpConnection c = await SmtpConnection.OpenAsync(edge.Port);
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("454 4.7.1 <carol@remote.example>: Relay access denied", await RcptAsync(c, "other@example.org", "carol@remote.example"));
        Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
        Assert.Equal("235 2.7.0 Authentication successful", await c.CommandAsync("AUTH PLAIN " + Base64("\0alice\0x")));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(c, "alice@edge.test", "carol@remote.example"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        string queued = await c.CommandAsync("Subject: hi\r\n\r\nbody\r\n.");
        Assert.StartsWith("250 2.0.0 Ok: queued as ", queued);
        string id = queued.Split(' ')[^1];

        await edge.WaitForLogAsync($@"edge/smtpd\[\d+\]: {id}: client=localhost\[127\.0\.0\.1\], sasl_method=PLAIN, sasl_username=alice$");
        var (exit, message, error) = await EdgeProcess.RunAsync(config.Path, "postcat", "-c", config.Path, "-q", id);
        Assert.True(exit == 0, error);
        Assert.Matches(@"Received: from client\.example \(localhost \[127\.0\.0\.1\]\)\n\t\(Authenticated sender: alice\)\n" +
            @"\tby mx\.edge\.test \(Edge\) with ESMTPA id ", message.Replace("\r\n", "\n"));
    }

    private static async Task<string> RcptAsync(SmtpConnection c, string sender, string recipient)
    {
        Assert.StartsWith("250", await c.CommandAsync($"MAIL FROM:<{sender}>"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    /// <summary>
    /// local_header_rewrite_clients = permit_sasl_authenticated (the usual submission setting): a logged-in client's
    /// headers are rewritten in the local context (qualified, the missing ones added), another client's are not.
    /// </summary>
    [Fact]
    public async Task A_logged_in_clients_headers_are_rewritten_in_the_local_context()
    {
        await using Dovecot dovecot = await Dovecot.StartAsync();
        await using EdgeInstance edge = await EdgeInstance.StartAsync(MainCf(dovecot) + "\nlocal_header_rewrite_clients = permit_sasl_authenticated\n");
        async Task SendAsync(bool login, string subject)
        {
            await using SmtpConnection c = await edge.ConnectAsync();
            await c.CommandAsync("EHLO client.example");
            if (login)
            {
                Assert.Equal("235 2.7.0 Authentication successful", await c.CommandAsync("AUTH PLAIN " + Base64("\0alice\0x")));
            }
            // Not alice's address without her login: reject_sender_login_mismatch would refuse it.
            Assert.StartsWith("250 ", await c.CommandAsync(login ? "MAIL FROM:<alice@edge.test>" : "MAIL FROM:<someone@example.org>"));
            Assert.StartsWith("250 ", await c.CommandAsync("RCPT TO:<user@edge.test>"));
            Assert.StartsWith("354", await c.CommandAsync("DATA"));
            Assert.StartsWith("250 2.0.0 Ok", await c.CommandAsync($"From: alice\r\nSubject: {subject}\r\n\r\ntext\r\n."));
        }
        await SendAsync(login: true, "logged in");
        await SendAsync(login: false, "anonymous");

        var contents = new List<string>();
        foreach ((Edge.Queue.QueuedMessage message, _) in await edge.Queue.ListAsync())
        {
            using var content = new MemoryStream();
            await edge.Queue.CopyContentAsync(message, content);
            contents.Add(Encoding.UTF8.GetString(content.ToArray()));
        }
        string loggedIn = Assert.Single(contents, c => c.Contains("Subject: logged in"));
        Assert.Contains("\r\nFrom: alice@mx.edge.test\r\n", loggedIn);
        Assert.Contains("\r\nMessage-Id: <", loggedIn);
        string anonymous = Assert.Single(contents, c => c.Contains("Subject: anonymous"));
        Assert.Contains("\r\nFrom: alice\r\n", anonymous);
        Assert.DoesNotContain("Message-Id:", anonymous);
    }

    /// <summary>smtpd_tls_auth_only: no AUTH before STARTTLS, and AUTH then is refused as Postfix 3.7 refuses it.</summary>
    [Fact]
    public async Task With_tls_auth_only_auth_waits_for_starttls()
    {
        await using Dovecot dovecot = await Dovecot.StartAsync();
        using var certificates = new TempDirectory();
        await using EdgeInstance edge = await EdgeInstance.StartAsync(MainCf(dovecot) + "\nsmtpd_tls_auth_only = yes\n" +
            TestCertificate.MainCf(certificates));
        await using SmtpConnection c = await edge.ConnectAsync();
        Assert.DoesNotContain("AUTH", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("503 5.5.1 Error: authentication not enabled", await c.CommandAsync("AUTH PLAIN " + Base64("\0alice\0x")));
        Assert.StartsWith("220", await c.CommandAsync("STARTTLS"));
        await c.StartTlsAsync();
        Assert.Contains("250-AUTH PLAIN LOGIN", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("235 2.7.0 Authentication successful", await c.CommandAsync("AUTH PLAIN " + Base64("\0alice\0x")));
    }

    /// <summary>An auth server that cannot be reached: AUTH is not offered (with Postfix's warning), and AUTH is refused.</summary>
    [Fact]
    public async Task Without_the_auth_server_auth_is_not_offered()
    {
        using var config = new TempDirectory();
        await using EdgeProcess edge = await StartProcessAsync(config, $"""
            mynetworks = 192.0.2.0/24
            smtpd_sasl_auth_enable = yes
            smtpd_sasl_type = dovecot
            smtpd_sasl_path = {config.File("no-auth-client")}
            """);
        await using SmtpConnection c = await SmtpConnection.OpenAsync(edge.Port);
        Assert.DoesNotContain("AUTH", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("503 5.5.1 Error: authentication not enabled", await c.CommandAsync("AUTH PLAIN " + Base64("\0alice\0x")));
        await edge.WaitForLogAsync($@"warning: SASL: Connect to Dovecot auth socket '{config.File("no-auth-client")}' failed");
    }

    /// <summary>A type Edge does not speak stops start-up, naming the setting.</summary>
    [Fact]
    public async Task Cyrus_sasl_is_refused_at_start_up()
    {
        var error = await Assert.ThrowsAsync<Edge.Config.ConfigException>(() => EdgeInstance.StartAsync("smtpd_sasl_auth_enable = yes"));
        Assert.Contains("parameter smtpd_sasl_type: \"cyrus\" is not supported by Edge: only dovecot", error.Message);
    }

    /// <summary>
    /// What a login is bound to: STARTTLS forgets it (RFC 3207), XCLIENT LOGIN sets it for a proxy's client, an empty
    /// smtpd_sender_login_maps owns no address for anyone, and a pipelined AUTH with MAIL behind it is answered in order.
    /// </summary>
    [Fact]
    public async Task A_login_ends_at_starttls_comes_from_xclient_and_owns_only_what_the_table_says()
    {
        await using Dovecot dovecot = await Dovecot.StartAsync();
        using var certificates = new TempDirectory();
        await using EdgeInstance edge = await EdgeInstance.StartAsync(MainCf(dovecot) + "\n" + TestCertificate.MainCf(certificates) +
            "\nsmtpd_authorized_xclient_hosts = 127.0.0.1\nsmtpd_sender_restrictions =\nsmtpd_sasl_response_limit = 100");
        await using (SmtpConnection c = await edge.ConnectAsync())
        {
            await c.CommandAsync("EHLO client.example");
            await c.SendAsync("AUTH PLAIN " + Base64("\0alice\0x") + "\r\nMAIL FROM:<a@example.org>\r\n");
            Assert.Equal("235 2.7.0 Authentication successful", await c.ReadReplyAsync());
            Assert.Equal("250 2.1.0 Ok", await c.ReadReplyAsync());
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<carol@remote.example>"));
            Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
            await c.CommandAsync("STARTTLS");
            await c.StartTlsAsync();
            await c.CommandAsync("EHLO client.example");
            Assert.Equal("454 4.7.1 <carol@remote.example>: Relay access denied", await RcptAsync(c, "a@example.org", "carol@remote.example"));
            Assert.Equal("250 2.0.0 Ok", await c.CommandAsync("RSET"));
            Assert.Equal("334 VXNlcm5hbWU6", await c.CommandAsync("AUTH LOGIN"));
            Assert.Equal("500 5.5.6 SASL response limit exceeded", await c.CommandAsync(new string('A', 200)));
        }
        await using (SmtpConnection proxy = await edge.ConnectAsync())
        {
            await proxy.CommandAsync("EHLO proxy.example");
            Assert.StartsWith("220 ", await proxy.CommandAsync("XCLIENT ADDR=192.0.2.10 NAME=client.example LOGIN=alice"));
            await proxy.CommandAsync("EHLO client.example");
            Assert.Equal("250 2.1.5 Ok", await RcptAsync(proxy, "a@example.org", "carol@remote.example"));
        }
        await using EdgeInstance strict = await EdgeInstance.StartAsync(MainCf(dovecot) + "\nsmtpd_sender_login_maps =");
        await using SmtpConnection owner = await strict.ConnectAsync();
        await owner.CommandAsync("EHLO client.example");
        Assert.Equal("235 2.7.0 Authentication successful", await owner.CommandAsync("AUTH PLAIN " + Base64("\0alice\0x")));
        Assert.Equal("553 5.7.1 <alice@edge.test>: Sender address rejected: not owned by user alice",
            await RcptAsync(owner, "alice@edge.test", "carol@remote.example"));
    }

    /// <summary>broken_sasl_auth_clients adds the old AUTH= line; smtpd_sasl_mechanism_filter narrows what is offered.</summary>
    [Fact]
    public async Task The_ehlo_auth_lines_follow_broken_clients_and_the_mechanism_filter()
    {
        await using Dovecot dovecot = await Dovecot.StartAsync();
        await using EdgeInstance edge = await EdgeInstance.StartAsync(MainCf(dovecot) + "\nbroken_sasl_auth_clients = yes\nsmtpd_sasl_mechanism_filter = login");
        await using SmtpConnection c = await edge.ConnectAsync();
        string ehlo = await c.CommandAsync("EHLO client.example");
        Assert.Contains("\n250-AUTH LOGIN\n250-AUTH=LOGIN\n", ehlo.Replace("\r\n", "\n") + "\n");
        Assert.DoesNotContain("PLAIN", ehlo);
    }

    /// <summary>
    /// The milters learn who authenticated, as Postfix tells them ({auth_type}, {auth_authen}, and the AUTH= sender as
    /// {auth_author}) with MAIL FROM: what opendkim asks to sign mail of authenticated clients.
    /// </summary>
    [Fact]
    public async Task Milters_get_the_auth_macros_with_mail_from()
    {
        await using Dovecot dovecot = await Dovecot.StartAsync();
        await using var milter = new Milter.TestMilter();
        await using EdgeInstance edge = await EdgeInstance.StartAsync(MainCf(dovecot) + $"\nsmtpd_milters = {milter.Endpoint}");
        await using SmtpConnection c = await edge.ConnectAsync();
        await c.CommandAsync("EHLO client.example");
        Assert.Equal("235 2.7.0 Authentication successful", await c.CommandAsync("AUTH PLAIN " + Base64("\0alice\0x")));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<alice@edge.test> AUTH=alice@edge.test"));
        Dictionary<string, string> macros = milter.Events.Last(e => e.Command == 'M').Macros;
        Assert.Equal("PLAIN", macros["{auth_type}"]);
        Assert.Equal("alice", macros["{auth_authen}"]);
        Assert.Equal("alice@edge.test", macros["{auth_author}"]);
    }
}
