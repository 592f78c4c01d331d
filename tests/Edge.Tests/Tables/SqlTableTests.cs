using Edge.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Edge.Tests.Tables;

/// <summary>
/// sqlite:, pgsql: and mysql: tables against a database file, Debian's PostgreSQL and MariaDB: Edge's postmap -q answers as
/// Debian's postmap (with postfix-sqlite, postfix-pgsql and postfix-mysql) answers from the same database and configuration file, a relay MX
/// accepts and refuses recipients as Postfix does with the same tables, and a database that is down, slow or refuses
/// the query defers.
/// </summary>
public class SqlTableTests
{
    private const string Rows = """
        CREATE TABLE users (email text, dest text);
        INSERT INTO users VALUES ('alice@example.com', 'alice@mbox.example'), ('o''brien@example.com', 'ob@x'),
            ('multi@example.com', 'a@x'), ('multi@example.com', 'b@x'), ('nulls@example.com', NULL), ('empty@example.com', ''),
            ('back\slash@example.com', 'bs@x'), ('deep@mail.example.com', 'deep@x');
        """;

    private static readonly string[] Keys =
        ["alice@example.com", "ALICE@Example.com", "o'brien@example.com", "multi@example.com", "nulls@example.com", "empty@example.com",
         "back\\slash@example.com", "nobody@example.com", "example.com", "@example.com", "deep@mail.example.com", "' OR '1'='1"];

    /// <summary>The same query written each way the manual pages allow, with the expansions and filters they describe.</summary>
    private static readonly string[] Queries =
    [
        "query = SELECT dest FROM users WHERE email = '%s'",
        "query = SELECT dest FROM users WHERE email = '%u@%d'\nresult_format = %u+%D@%d\ndomain = example.com",
        "query = SELECT dest FROM users WHERE email LIKE '%%@%2.%1' AND email = '%s'\nexpansion_limit = 1",
        "table = users\nselect_field = dest\nwhere_field = email\nadditional_conditions = AND dest <> 'b@x'",
    ];

    [Fact]
    public async Task Sqlite_lookups_find_what_postfix_finds()
    {
        using var directory = new TempDirectory();
        using (var connection = new SqliteConnection($"Data Source={directory.File("mail.db")}"))
        {
            connection.Open();
            using SqliteCommand command = connection.CreateCommand();
            command.CommandText = Rows;
            command.ExecuteNonQuery();
        }
        await CompareAsync("sqlite", directory, $"dbpath = {directory.File("mail.db")}");
    }

    [Fact]
    public async Task Pgsql_lookups_find_what_postfix_finds()
    {
        await using PostgresServer postgres = await PostgresServer.StartAsync(Rows);
        using var directory = new TempDirectory();
        await CompareAsync("pgsql", directory, $"hosts = 127.0.0.1:{postgres.Port}\nuser = postgres\ndbname = mail");
    }

    [Fact]
    public async Task Mysql_lookups_find_what_postfix_finds()
    {
        // MySQL's own quoting: a backslash in a string is an escape, so the row holds it doubled.
        await using MariaDbServer mariadb = await MariaDbServer.StartAsync(Rows.Replace("back\\slash", "back\\\\slash"));
        using var directory = new TempDirectory();
        await CompareAsync("mysql", directory, $"hosts = 127.0.0.1:{mariadb.Port}\nuser = root\ndbname = mail");
    }

    private static async Task CompareAsync(string type, TempDirectory directory, string connection)
    {
        Assert.True(File.Exists($"/usr/lib/postfix/postfix-{type}.so"), $"apt-get install postfix-{type} (.ci/run does this)");
        directory.Write("main.cf", "");
        var maps = new List<(string, string)>();
        for (int i = 0; i < Queries.Length; i++)
        {
            string cf = directory.File($"{type}{i}.cf");
            File.WriteAllText(cf, $"{connection}\n{Queries[i]}\n");
            maps.Add(($"{i}", $"{type}:{cf}"));
        }
        (List<string> differences, List<string> found) = await PostmapQuery.CompareAsync(directory.Path, maps, Keys);
        Assert.True(differences.Count == 0, string.Join('\n', differences));
        // The database answered (the same failure on both sides would compare equal too).
        Assert.Contains("0 ALICE@Example.com alice@mbox.example", found);
        Assert.Contains("0 multi@example.com a@x,b@x", found);
        Assert.Contains("1 alice@example.com alice+example.com@mbox.example", found);
    }

    private const string Directory = """
        CREATE TABLE recipients (address text);
        INSERT INTO recipients VALUES ('user@relay.example'), ('other@relay.example');
        CREATE TABLE aliases (address text, goto text);
        INSERT INTO aliases VALUES ('sales@alias.example', 'user@relay.example'), ('team@alias.example', 'user@relay.example'),
            ('team@alias.example', 'other@relay.example');
        """;

    private static string RelayMx(TempDirectory directory, int port, string query = "SELECT address FROM recipients WHERE address = '%s'")
    {
        directory.Write("recipients.cf", $"hosts = 127.0.0.1:{port}\nuser = postgres\ndbname = mail\nquery = {query}\n");
        directory.Write("aliases.cf", $"hosts = 127.0.0.1:{port}\nuser = postgres\ndbname = mail\nquery = SELECT goto FROM aliases WHERE address = '%s'\n");
        return $"""
            relay_domains = relay.example
            relay_recipient_maps = pgsql:{directory.File("recipients.cf")}
            virtual_alias_domains = alias.example
            virtual_alias_maps = pgsql:{directory.File("aliases.cf")}
            """;
    }

    private static async Task<List<string>> RepliesAsync(int port, params string[] recipients)
    {
        await using SmtpConnection c = await SmtpConnection.OpenAsync(port);
        var replies = new List<string> { await c.CommandAsync("EHLO client.example"), await c.CommandAsync("MAIL FROM:<sender@example.org>") };
        foreach (string recipient in recipients)
        {
            replies.Add(await c.CommandAsync($"RCPT TO:<{recipient}>"));
        }
        return replies;
    }

    [Fact]
    public async Task A_relay_mx_with_pgsql_tables_accepts_and_refuses_as_postfix_does()
    {
        await using PostgresServer postgres = await PostgresServer.StartAsync(Directory);
        using var directory = new TempDirectory();
        string mainCf = PostfixServer.ComparableMainCf + "\n" + RelayMx(directory, postgres.Port);
        string[] recipients = ["user@relay.example", "USER@Relay.Example", "nobody@relay.example", "sales@alias.example", "team@alias.example",
            "unknown@alias.example", "user@edge.test", "someone@elsewhere.example"];
        await using PostfixServer postfix = await PostfixServer.StartAsync(mainCf);
        await using EdgeInstance edge = await EdgeInstance.StartAsync(mainCf);
        List<string> expected = await RepliesAsync(postfix.Port, recipients);
        List<string> actual = await RepliesAsync(edge.Port, recipients);
        Assert.Equal(expected.Skip(1), actual.Skip(1));
        Assert.Equal("550 5.1.1 <nobody@relay.example>: Recipient address rejected: User unknown in relay recipient table", actual[4]);
    }

    [Fact]
    public async Task A_database_that_is_down_slow_or_refuses_the_query_defers()
    {
        using var directory = new TempDirectory();
        await using (EdgeInstance down = await EdgeInstance.StartAsync(RelayMx(directory, Delivery.ListeningPort.Free())))
        {
            Assert.Equal("451 4.3.0 <user@relay.example>: Temporary lookup failure", (await RepliesAsync(down.Port, "user@relay.example"))[^1]);
        }
        directory.Write("mysql.cf", $"hosts = 127.0.0.1:{Delivery.ListeningPort.Free()}\nuser = root\ndbname = mail\nquery = SELECT 1\n");
        await using (EdgeInstance down = await EdgeInstance.StartAsync($"relay_domains = relay.example\nrelay_recipient_maps = mysql:{directory.File("mysql.cf")}"))
        {
            Assert.Equal("451 4.3.0 <user@relay.example>: Temporary lookup failure", (await RepliesAsync(down.Port, "user@relay.example"))[^1]);
        }
        await using PostgresServer postgres = await PostgresServer.StartAsync(Directory);
        await using (EdgeInstance slow = await EdgeInstance.StartAsync(
            RelayMx(directory, postgres.Port, "SELECT address FROM recipients, pg_sleep(10) WHERE address = '%s'") + "\nedge_table_timeout = 1s"))
        {
            Assert.Equal("451 4.3.0 <user@relay.example>: Temporary lookup failure", (await RepliesAsync(slow.Port, "user@relay.example"))[^1]);
        }
        await using (EdgeInstance refused = await EdgeInstance.StartAsync(RelayMx(directory, postgres.Port, "SELECT nosuchcolumn FROM recipients WHERE address = '%s'")))
        {
            List<string> replies = await RepliesAsync(refused.Port, "user@relay.example", "sales@alias.example");
            Assert.Equal("451 4.3.0 <user@relay.example>: Temporary lookup failure", replies[^2]);
            // The alias table, whose query works, still answers for its domain.
            Assert.Equal("250 2.1.5 Ok", replies[^1]);
        }
    }
}
