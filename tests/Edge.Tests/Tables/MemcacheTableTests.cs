using Edge.Tests.Support;

namespace Edge.Tests.Tables;

/// <summary>
/// memcache: tables against Debian's memcached: what memcached has is found, what only the backup table has is found
/// there and stored for the next lookup, as Debian's postmap finds them; a memcached that is down fails the lookup
/// unless the backup table answers.
/// </summary>
public class MemcacheTableTests
{
    [Fact]
    public async Task Lookups_find_what_postfix_finds_and_fill_the_cache_from_the_backup()
    {
        await using MemcachedServer memcached = await MemcachedServer.StartAsync();
        using var directory = new TempDirectory();
        directory.Write("main.cf", "");
        directory.Write("backup", "alice@example.com alice@mbox.example\nbob@example.com bob@mbox.example\n");
        Assert.Equal("STORED\r\n", await memcached.CommandAsync("set carol@example.com 0 0 18\r\ncarol@mbox.example"));
        string plain = directory.File("plain.cf");
        File.WriteAllText(plain, $"memcache = inet:127.0.0.1:{memcached.Port}\nbackup = texthash:{directory.File("backup")}\n");
        string formatted = directory.File("formatted.cf");
        File.WriteAllText(formatted, $"memcache = inet:127.0.0.1:{memcached.Port}\nkey_format = edge:%d:%u\ndomain = example.com\nttl = 60\n");
        Assert.Equal("STORED\r\n", await memcached.CommandAsync("set edge:example.com:dave 0 0 4\r\ndave"));

        (string Key, string Map)[] queries =
        [
            ("carol@example.com", plain), ("Alice@Example.com", plain), ("nobody@example.com", plain),
            ("dave@example.com", formatted), ("dave@other.example", formatted), ("example.com", formatted), ("with space@example.com", plain),
        ];
        foreach ((string key, string cf) in queries)
        {
            PostmapQuery.Answers answers = await PostmapQuery.AskAsync(directory.Path, key, $"memcache:{cf}");
            Assert.True(answers.Agree, $"{key}: {answers}");
        }
        Assert.Equal("VALUE alice@example.com 0 18\r\nalice@mbox.example\r\nEND\r\n", await memcached.CommandAsync("get alice@example.com"));
        Assert.Equal("END\r\n", await memcached.CommandAsync("get bob@example.com"));
    }

    [Fact]
    public async Task A_memcached_that_is_down_fails_the_lookup_unless_there_is_a_backup_table()
    {
        using var directory = new TempDirectory();
        int port = Delivery.ListeningPort.Free();
        directory.Write("alone.cf", $"memcache = inet:127.0.0.1:{port}\nretry_pause = 1\n");
        directory.Write("backed.cf", $"memcache = inet:127.0.0.1:{port}\nbackup = inline:{{user@relay.example=ok}}\n");
        await using EdgeInstance edge = await EdgeInstance.StartAsync($"""
            relay_domains = relay.example, alone.example
            relay_recipient_maps = memcache:{directory.File("backed.cf")}
            smtpd_restriction_classes = cached
            cached = check_recipient_access memcache:{directory.File("alone.cf")}
            smtpd_recipient_restrictions = check_recipient_access inline:{"{"}alone.example=cached{"}"}, reject_unauth_destination
            """);
        await using SmtpConnection c = await edge.ConnectAsync();
        Assert.StartsWith("250", await c.CommandAsync("EHLO client.example"));
        Assert.StartsWith("250 ", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        // With a backup table, as in Postfix, the backup's answer stands (found or not) though memcached is down.
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<user@relay.example>"));
        Assert.Equal("550 5.1.1 <other@relay.example>: Recipient address rejected: User unknown in relay recipient table",
            await c.CommandAsync("RCPT TO:<other@relay.example>"));
        // Without one, the lookup fails after max_try tries: an access table's failure.
        Assert.Equal("451 4.3.5 <user@alone.example>: Recipient address rejected: Server configuration error",
            await c.CommandAsync("RCPT TO:<user@alone.example>"));
    }
}
