using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Edge.Tests.Support;

namespace Edge.Tests.Tables;

/// <summary>
/// ldap: tables against Debian's slapd with a directory of users, groups, aliases and a referral: Edge's postmap -q
/// answers as Debian's postmap (with postfix-ldap) answers from the same directory and configuration file, a relay MX
/// accepts and refuses recipients as Postfix does, and a directory that is down, silent or garbled defers.
/// </summary>
public class LdapTableTests
{
    private const string Directory = """
        dn: ou=people,dc=edge,dc=test
        objectClass: organizationalUnit
        ou: people

        dn: uid=alice,ou=people,dc=edge,dc=test
        objectClass: inetOrgPerson
        objectClass: inetLocalMailRecipient
        uid: alice
        cn: Alice
        sn: Example
        mail: alice@edge.test
        mailLocalAddress: alice@edge.test
        mailLocalAddress: a.example@edge.test
        mailRoutingAddress: alice@mbox.edge.test

        dn: uid=bob,ou=people,dc=edge,dc=test
        objectClass: inetOrgPerson
        objectClass: inetLocalMailRecipient
        uid: bob
        cn: Bob
        sn: Example
        mailLocalAddress: bob@edge.test
        mailRoutingAddress: bob@mbox.edge.test

        dn: cn=team,ou=people,dc=edge,dc=test
        objectClass: groupOfNames
        objectClass: inetLocalMailRecipient
        cn: team
        mailLocalAddress: team@edge.test
        member: uid=alice,ou=people,dc=edge,dc=test
        member: uid=bob,ou=people,dc=edge,dc=test
        member: uid=ghost,ou=people,dc=edge,dc=test

        dn: cn=list,ou=people,dc=edge,dc=test
        objectClass: groupOfURLs
        objectClass: inetLocalMailRecipient
        cn: list
        mailLocalAddress: list@edge.test
        mailRoutingAddress: list-owner@mbox.edge.test
        memberURL: ldap:///ou=people,dc=edge,dc=test?mailRoutingAddress?one?(uid=bob)

        dn: cn=sales,ou=people,dc=edge,dc=test
        objectClass: nisMailAlias
        cn: sales
        rfc822MailMember: alice@edge.test
        rfc822MailMember: (odd)*name@edge.test

        dn: ou=elsewhere,dc=edge,dc=test
        objectClass: organizationalUnit
        ou: elsewhere

        dn: uid=carol,ou=elsewhere,dc=edge,dc=test
        objectClass: inetOrgPerson
        objectClass: inetLocalMailRecipient
        uid: carol
        cn: Carol
        sn: Example
        mailLocalAddress: moved@edge.test
        mailRoutingAddress: carol@mbox.edge.test

        dn: cn=moved,ou=people,dc=edge,dc=test
        objectClass: referral
        objectClass: extensibleObject
        cn: moved
        ref: ldap://127.0.0.1:PORT/ou=elsewhere,dc=edge,dc=test

        """;

    private static readonly string[] Keys =
        ["alice@edge.test", "Alice@Edge.Test", "a.example@edge.test", "team@edge.test", "list@edge.test", "sales", "moved@edge.test",
         "nobody@edge.test", "*", "(odd)*name@edge.test", "edge.test"];

    /// <summary>One configuration per way ldap_table(5) describes of getting at the answers.</summary>
    private static readonly string[] Configurations =
    [
        "query_filter = (mailLocalAddress=%s)\nresult_attribute = mailRoutingAddress",
        "query_filter = (mailLocalAddress=%s)\nresult_attribute = mailRoutingAddress\nspecial_result_attribute = member, memberURL",
        "query_filter = (mailLocalAddress=%s)\nresult_attribute = mailRoutingAddress\nspecial_result_attribute = member, memberURL\nleaf_result_attribute = mail\nrecursion_limit = 1",
        "query_filter = (mailLocalAddress=%s)\nresult_attribute = mailRoutingAddress\nterminal_result_attribute = mail\nspecial_result_attribute = member, memberURL",
        "query_filter = (&(objectClass=nisMailAlias)(cn=%s))\nresult_attribute = rfc822MailMember\nexpansion_limit = 1",
        "query_filter = (mailLocalAddress=%s)\nresult_attribute = mailRoutingAddress\nresult_format = %u via %D\ndomain = edge.test",
        "query_filter = (mailLocalAddress=%s)\nresult_attribute = mailRoutingAddress\nchase_referrals = yes",
        "query_filter = (mailLocalAddress=%u@%d)\nresult_attribute = mailRoutingAddress\nscope = one\nbind = no",
        "query_filter = (mailLocalAddress=%s)\nresult_attribute = mailRoutingAddress\nsize_limit = 1\nsearch_base = dc=edge,dc=test",
    ];

    private static string Connection(int port) =>
        $"server_host = ldap://127.0.0.1:{port}\nsearch_base = ou=people,dc=edge,dc=test\nversion = 3\nbind_dn = {SlapdServer.AdminDn}\nbind_pw = {SlapdServer.AdminPassword}\n";

    [Fact]
    public async Task Lookups_find_what_postfix_finds()
    {
        Assert.True(File.Exists("/usr/lib/postfix/postfix-ldap.so"), "apt-get install postfix-ldap (.ci/run does this)");
        await using SlapdServer slapd = await SlapdServer.StartAsync(Directory);
        using var directory = new TempDirectory();
        directory.Write("main.cf", "");
        var maps = new List<(string, string)>();
        for (int i = 0; i < Configurations.Length; i++)
        {
            string cf = directory.File($"ldap{i}.cf");
            File.WriteAllText(cf, Connection(slapd.Port) + Configurations[i] + "\n");
            maps.Add(($"{i}", $"ldap:{cf}"));
        }
        (List<string> differences, List<string> found) = await PostmapQuery.CompareAsync(directory.Path, maps, Keys);
        Assert.True(differences.Count == 0, string.Join('\n', differences));
        Assert.Contains("0 Alice@Edge.Test alice@mbox.edge.test", found);
        Assert.Contains("1 team@edge.test alice@mbox.edge.test,bob@mbox.edge.test", found);
        Assert.Contains("6 moved@edge.test carol@mbox.edge.test", found);
    }

    /// <summary>
    /// A self-signed certificate for localhost, its own CA, as server.pem and server.key in <paramref name="directory"/>.
    /// OpenLDAP's library checks the name it finds for the server's address, which may be the machine's own: it is named too.
    /// </summary>
    private static void WriteServerCertificate(TempDirectory directory)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddDnsName(System.Net.Dns.GetHostName());
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        directory.Write("server.pem", certificate.ExportCertificatePem());
        directory.Write("server.key", key.ExportPkcs8PrivateKeyPem());
    }

    [Fact]
    public async Task Tls_connections_find_what_postfix_finds_and_refuse_a_server_they_cannot_trust()
    {
        using var directory = new TempDirectory();
        WriteServerCertificate(directory);
        using RSA otherKey = RSA.Create(2048);
        using X509Certificate2 other = new CertificateRequest("CN=other", otherKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        directory.Write("other.pem", other.ExportCertificatePem());
        await using SlapdServer slapd = await SlapdServer.StartAsync(Directory, (directory.File("server.pem"), directory.File("server.key")));
        directory.Write("main.cf", "");
        string Query = "search_base = ou=people,dc=edge,dc=test\nversion = 3\nbind = no\nquery_filter = (mailLocalAddress=%s)\nresult_attribute = mailRoutingAddress\n";
        (string Name, string Cf, string? Expected)[] cases =
        [
            ("start_tls", $"server_host = ldap://localhost:{slapd.Port}\nstart_tls = yes\ntls_require_cert = yes\ntls_ca_cert_file = {directory.File("server.pem")}\n", "alice@mbox.edge.test\n"),
            ("ldaps", $"server_host = ldaps://localhost:{slapd.TlsPort}\ntls_require_cert = yes\ntls_ca_cert_file = {directory.File("server.pem")}\n", "alice@mbox.edge.test\n"),
            ("unchecked", $"server_host = ldaps://localhost:{slapd.TlsPort}\ntls_require_cert = no\n", "alice@mbox.edge.test\n"),
            ("untrusted", $"server_host = ldap://localhost:{slapd.Port}\nstart_tls = yes\ntls_require_cert = yes\ntls_ca_cert_file = {directory.File("other.pem")}\n", null),
        ];
        foreach ((string name, string cf, string? expected) in cases)
        {
            directory.Write($"{name}.cf", cf + Query);
            string map = $"ldap:{directory.File($"{name}.cf")}";
            PostmapQuery.Answers answers = await PostmapQuery.AskAsync(directory.Path, "alice@edge.test", map);
            Assert.True(answers.Agree, $"{name}: {answers}");
            Assert.Equal((name, expected ?? ""), (name, answers.PostfixOutput));
        }
    }

    [Fact]
    public async Task A_directory_that_demands_a_client_certificate_gets_tls_cert_as_postfix_gives_it()
    {
        using var directory = new TempDirectory();
        WriteServerCertificate(directory);
        using X509Certificate2 authority = TestCertificate.CreateAuthority("Edge test client CA");
        using X509Certificate2 client = TestCertificate.CreateClient("edge.test", authority);
        directory.Write("ca.pem", authority.ExportCertificatePem());
        directory.Write("client.pem", client.ExportCertificatePem());
        directory.Write("client.key", client.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        await using SlapdServer slapd = await SlapdServer.StartAsync(Directory, (directory.File("server.pem"), directory.File("server.key")), directory.File("ca.pem"));
        directory.Write("main.cf", "");
        string common = $"server_host = ldaps://localhost:{slapd.TlsPort}\ntls_require_cert = yes\ntls_ca_cert_file = {directory.File("server.pem")}\n" +
            "search_base = ou=people,dc=edge,dc=test\nversion = 3\nbind = no\nquery_filter = (mailLocalAddress=%s)\nresult_attribute = mailRoutingAddress\n";
        directory.Write("with.cf", common + $"tls_cert = {directory.File("client.pem")}\ntls_key = {directory.File("client.key")}\n");
        directory.Write("without.cf", common);
        PostmapQuery.Answers with = await PostmapQuery.AskAsync(directory.Path, "alice@edge.test", $"ldap:{directory.File("with.cf")}");
        Assert.True(with.Agree, with.ToString());
        Assert.Equal("alice@mbox.edge.test\n", with.EdgeOutput);
        PostmapQuery.Answers without = await PostmapQuery.AskAsync(directory.Path, "alice@edge.test", $"ldap:{directory.File("without.cf")}");
        Assert.True(without.Agree, without.ToString());
        Assert.Equal(1, without.EdgeExit);
    }

    [Fact]
    public async Task A_relay_mx_with_an_ldap_table_accepts_and_refuses_as_postfix_does()
    {
        await using SlapdServer slapd = await SlapdServer.StartAsync(Directory);
        using var directory = new TempDirectory();
        directory.Write("recipients.cf", Connection(slapd.Port) + "query_filter = (mailLocalAddress=%s)\nresult_attribute = mailLocalAddress\n");
        string mainCf = PostfixServer.ComparableMainCf.Replace("mydestination = localhost, edge.test", "mydestination = localhost") + $"""

            relay_domains = edge.test
            relay_recipient_maps = ldap:{directory.File("recipients.cf")}
            """;
        string[] recipients = ["alice@edge.test", "A.Example@Edge.Test", "team@edge.test", "nobody@edge.test", "someone@elsewhere.example"];
        await using PostfixServer postfix = await PostfixServer.StartAsync(mainCf);
        await using EdgeInstance edge = await EdgeInstance.StartAsync(mainCf);
        List<string> expected = await RepliesAsync(postfix.Port, recipients);
        List<string> actual = await RepliesAsync(edge.Port, recipients);
        Assert.Equal(expected, actual);
        Assert.Equal("550 5.1.1 <nobody@edge.test>: Recipient address rejected: User unknown in relay recipient table", actual[3]);
    }

    private static async Task<List<string>> RepliesAsync(int port, string[] recipients)
    {
        await using SmtpConnection c = await SmtpConnection.OpenAsync(port);
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<sender@example.org>");
        var replies = new List<string>();
        foreach (string recipient in recipients)
        {
            replies.Add(await c.CommandAsync($"RCPT TO:<{recipient}>"));
        }
        return replies;
    }

    [Fact]
    public async Task A_directory_that_is_down_silent_or_garbled_defers()
    {
        using var directory = new TempDirectory();
        await using var silent = new SocketmapServer { Delay = TimeSpan.FromMinutes(1) };
        await using var garbled = new SocketmapServer { Raw = "this is not BER"u8.ToArray() };
        int down = Delivery.ListeningPort.Free();
        string Cf(string name, int port)
        {
            directory.Write(name, $"server_host = 127.0.0.1:{port}\nsearch_base = dc=edge,dc=test\nversion = 3\nbind = no\ntimeout = 2\n" +
                "query_filter = (mailLocalAddress=%s)\nresult_attribute = mailLocalAddress\n");
            return $"ldap:{directory.File(name)}";
        }
        foreach ((string name, int port) in new[] { ("down", down), ("silent", silent.Port), ("garbled", garbled.Port) })
        {
            await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
                relay_domains = {name}.example
                relay_recipient_maps = {Cf($"{name}.cf", port)}
                edge_table_timeout = 5s
                """);
            Task<List<string>> replies = RepliesAsync(edge.Port, [$"user@{name}.example"]);
            Assert.Same(replies, await Task.WhenAny(replies, Task.Delay(TimeSpan.FromSeconds(30))));
            Assert.Equal([$"451 4.3.0 <user@{name}.example>: Temporary lookup failure"], await replies);
        }
    }
}
