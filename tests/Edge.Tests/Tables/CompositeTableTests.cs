using Edge.Tests.Support;

namespace Edge.Tests.Tables;

/// <summary>
/// unionmap:{…}, pipemap:{…}, randmap:{…} and internal: answer edge postmap -q as they answer Debian's own postmap -q
/// (the test asks both), and work where main.cf names a table.
/// </summary>
public class CompositeTableTests
{
    [Theory]
    [InlineData("a", "unionmap:{inline:{a=1}, inline:{a=2, b=3}}")]
    [InlineData("b", "unionmap:{inline:{a=1}, inline:{a=2, b=3}}")]
    [InlineData("z", "unionmap:{inline:{a=1}, inline:{a=2, b=3}}")]
    [InlineData("b", "pipemap:{inline:{b=x}, inline:{x=final}}")]
    [InlineData("c", "pipemap:{inline:{b=x}, inline:{x=final}}")]
    [InlineData("anything", "randmap:{one}")]
    [InlineData("anything", "internal:whatever")]
    [InlineData("a", "unionmap:{pipemap:{inline:{a=k}, inline:{k=deep}}, static:{plain}}")]
    public async Task A_lookup_finds_what_postfix_finds(string key, string table)
    {
        using var config = new TempDirectory();
        config.Write("main.cf", "");
        PostmapQuery.Answers answers = await PostmapQuery.AskAsync(config.Path, key, table);
        Assert.True(answers.Agree, answers.ToString());
    }

    [Fact]
    public void Randmap_spreads_its_answers_over_its_results()
    {
        var table = Edge.Tables.TableFactory.Open("randmap:{smtp:[relay1.example], smtp:[relay2.example]}", DefaultTableSettings.Value, out string? error);
        Assert.Null(error);
        HashSet<string?> seen = [.. Enumerable.Range(0, 200).Select(_ => table!.Lookup("any key"))];
        Assert.Equal(["smtp:[relay1.example]", "smtp:[relay2.example]"], seen.Order());
    }

    [Theory]
    [InlineData("unionmap:{}", "expected at least one item")]
    [InlineData("unionmap:inline:{a=1}", "expected {item, ...}")]
    [InlineData("pipemap:{inline:{a=1}, nonsense}", "nonsense: \"nonsense\" is not a type:name table")]
    public void A_malformed_composite_is_refused_with_the_reason(string reference, string reason)
    {
        Assert.Null(Edge.Tables.TableFactory.Open(reference, DefaultTableSettings.Value, out string? error));
        Assert.Contains(reason, error);
    }

    /// <summary>In main.cf: a relay MX whose recipients are the union of two tables.</summary>
    [Fact]
    public async Task A_union_of_recipient_tables_decides_rcpt_to()
    {
        await using var edge = await EdgeInstance.StartAsync("""
            relay_domains = relay.example
            relay_recipient_maps = unionmap:{inline:{ann@relay.example=ok}, inline:{bob@relay.example=ok}}
            """);
        await using var c = await SmtpConnection.OpenAsync(edge.Port);
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<sender@example.org>");
        Assert.StartsWith("250 ", await c.CommandAsync("RCPT TO:<ann@relay.example>"));
        Assert.StartsWith("250 ", await c.CommandAsync("RCPT TO:<bob@relay.example>"));
        Assert.StartsWith("550 5.1.1 <eve@relay.example>: Recipient address rejected: User unknown in relay recipient table",
            await c.CommandAsync("RCPT TO:<eve@relay.example>"));
    }

    /// <summary>
    /// A union of cidr: tables matches the client's whole address only, as its first table does: "127.0", a shortened key
    /// a hash table would be asked, must not match 127.0.0.0/32.
    /// </summary>
    [Fact]
    public async Task A_union_of_cidr_tables_is_asked_the_whole_address_only()
    {
        using var directory = new TempDirectory();
        directory.Write("clients", "127.0.0.0/32 REJECT listed\n");
        await using var edge = await EdgeInstance.StartAsync(
            $"smtpd_client_restrictions = check_client_access unionmap:{{cidr:{directory.File("clients")}}}", reuse: directory);
        await using var c = await SmtpConnection.OpenAsync(edge.Port);
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<sender@example.org>");
        Assert.StartsWith("250 ", await c.CommandAsync("RCPT TO:<postmaster@localhost>"));
    }
}
