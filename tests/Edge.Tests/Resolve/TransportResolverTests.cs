using Edge.Resolve;
using Edge.Tables;
using Edge.Tests.Support;

namespace Edge.Tests.Resolve;

/// <summary>transport(5) and trivial-rewrite's defaults, with inline: and texthash: tables.</summary>
public class TransportResolverTests
{
    private static TransportResolver Resolver(string relayhost = "", params ILookupTable[] maps) => new(
        new AddressClassifier(new DomainSet(["localhost", "edge.test"]), new DomainSet(["alias.example"]),
            new DomainSet(["mailbox.example"]), new DomainSet(["relayed.example"])),
        maps, relayhost, Route.Parse("local:mx.edge.test"), Route.Parse("virtual"), "relay", "smtp", "+");

    [Theory]
    [InlineData("postmaster@localhost", "local:mx.edge.test")]
    [InlineData("postmaster", "local:mx.edge.test")]
    [InlineData("u@mailbox.example", "virtual:mailbox.example")]
    [InlineData("u@alias.example", "error:5.1.1 User unknown in virtual alias table")]
    [InlineData("u@relayed.example", "relay:relayed.example")]
    [InlineData("u@elsewhere.example", "smtp:elsewhere.example")]
    public void Address_classes_choose_the_default_transport(string recipient, string route)
    {
        Assert.Equal(route, Resolver().Resolve(recipient).ToString());
    }

    /// <summary>
    /// The class the delivery metrics name is asked after a delivery and before its outcome is recorded: a domain table
    /// that cannot answer then gives "unknown" rather than an error, which would leave a delivered recipient unrecorded
    /// (and delivered again).
    /// </summary>
    [Fact]
    public void The_metrics_class_of_a_domain_a_table_cannot_answer_for_is_unknown()
    {
        var resolver = new TransportResolver(
            new AddressClassifier(new DomainSet(["edge.test"]), new DomainSet([]), new DomainSet([]),
                new DomainSet([], tables: [new FailTable("fail:relay_domains", "down")])),
            [], "", Route.Parse("local"), Route.Parse("virtual"), "relay", "smtp", "");
        Assert.Equal("local", resolver.ClassName("u@edge.test"));
        Assert.Equal("unknown", resolver.ClassName("u@elsewhere.example"));
        Assert.Throws<TableLookupException>(() => resolver.Resolve("u@elsewhere.example"));
    }

    [Fact]
    public void Relayhost_is_the_next_hop_for_relay_and_default_classes()
    {
        TransportResolver resolver = Resolver("[smarthost.example]:587");
        Assert.Equal("smtp:[smarthost.example]:587", resolver.Resolve("u@elsewhere.example").ToString());
        Assert.Equal("relay:[smarthost.example]:587", resolver.Resolve("u@relayed.example").ToString());
        Assert.Equal("local:mx.edge.test", resolver.Resolve("u@edge.test").ToString());
    }

    [Fact]
    public void Transport_maps_lookup_order()
    {
        InlineTable table = InlineTable.Parse("""
            { user@special.example=smtp:[10.0.0.1], special.example=lmtp:unix:/run/lmtp,
              .sub.example=relay:, { other.example = :[10.0.0.2]:2525 }, *=smtp:[fallback.example],
              boss@edge.test=discard: }
            """, out string? error)!;
        Assert.Null(error);
        TransportResolver resolver = Resolver("", table);
        Assert.Equal("smtp:[10.0.0.1]", resolver.Resolve("user@special.example").ToString());
        Assert.Equal("smtp:[10.0.0.1]", resolver.Resolve("user+tag@special.example").ToString());
        Assert.Equal("lmtp:unix:/run/lmtp", resolver.Resolve("else@special.example").ToString());
        Assert.Equal("relay:deep.sub.example", resolver.Resolve("u@deep.sub.example").ToString());
        Assert.Equal("smtp:[fallback.example]", resolver.Resolve("u@sub.example").ToString());
        Assert.Equal("smtp:[10.0.0.2]:2525", resolver.Resolve("u@other.example").ToString());
        Assert.Equal("discard:mx.edge.test", resolver.Resolve("boss@edge.test").ToString());
    }

    [Fact]
    public void Texthash_tables_are_read_from_postmap_source_files()
    {
        using var directory = new TempDirectory();
        directory.Write("transport", "# routes\nexample.com    smtp:[mx1.example.com]\n  \nexample.net\n  relay:[mx2.example.net]\n");
        ILookupTable table = TableFactory.Open("texthash:" + directory.File("transport"), DefaultTableSettings.Value, out string? error)!;
        Assert.Null(error);
        Assert.Equal("smtp:[mx1.example.com]", table.Lookup("EXAMPLE.COM"));
        Assert.Equal("relay:[mx2.example.net]", table.Lookup("example.net"));
        Assert.Null(table.Lookup("example.org"));
    }

    [Theory]
    [InlineData("nisplus:transport", "table type \"nisplus\" is not supported yet")]
    [InlineData("ldap:/nonexistent/ldap-transport.cf", "/nonexistent/ldap-transport.cf: cannot read")]
    [InlineData("pgsql:relative.cf", "expected the absolute path of a configuration file")]
    [InlineData("hash:/nonexistent/transport", "/nonexistent/transport")]
    [InlineData("inline:{ novalue }", "expected key=value")]
    [InlineData("texthash:/no/such/file", "/no/such/file")]
    public void Tables_that_cannot_be_opened_say_why(string reference, string expected)
    {
        Assert.Null(TableFactory.Open(reference, DefaultTableSettings.Value, out string? error));
        Assert.Contains(expected, error);
    }
}
