using System.Text;
using Edge.Resolve;

namespace Edge.Tests.Resolve;

/// <summary>
/// Postfix's resolve_addr() as smtpd's relay checks see it: the class of the domain an address really goes to,
/// and whether its local part still routes it on (the cases of Postfix's resolve_clnt tests).
/// </summary>
public class AddressResolutionTests
{
    private static AddressClassifier Classifier(bool percentHack = true, bool swapBangpath = true, bool dequoted = true) => new(
        new DomainSet(["localhost", "edge.test"]), new DomainSet(["alias.example"]), new DomainSet(["mailbox.example"]),
        new DomainSet(["relayed.example"], parentMatchesSubdomains: true), percentHack, swapBangpath, dequoted);

    private static Resolution Resolve(string address, AddressClassifier? classifier = null) =>
        (classifier ?? Classifier()).Resolve(Encoding.UTF8.GetBytes(address));

    [Theory]
    [InlineData("user@edge.test", "Local")]
    [InlineData("postmaster", "Local")]
    [InlineData("user@relayed.example", "Relay")]
    [InlineData("user@mx.relayed.example", "Relay")]
    [InlineData("user@alias.example", "VirtualAlias")]
    [InlineData("user@mailbox.example", "VirtualMailbox")]
    [InlineData("user@elsewhere.example", "Default")]
    [InlineData("\"john doe\"@relayed.example", "Relay")]
    [InlineData("\"john doe\"@edge.test", "Local")]
    public void Ordinary_addresses_are_not_routed(string address, string expected)
    {
        Assert.Equal(new Resolution(Enum.Parse<AddressClass>(expected), false), Resolve(address));
    }

    [Theory]
    [InlineData("victim%other.test@relayed.example", "Relay")]
    [InlineData("other.test!victim@relayed.example", "Relay")]
    [InlineData("\"victim@other.test\"@relayed.example", "Relay")]
    [InlineData("\"victim%other.test\"@elsewhere.example", "Default")]
    [InlineData("victim%other.test@mailbox.example", "VirtualMailbox")]
    public void Operators_in_the_local_part_of_a_remote_address_route_it(string address, string expected)
    {
        Assert.Equal(new Resolution(Enum.Parse<AddressClass>(expected), true), Resolve(address));
    }

    [Theory]
    [InlineData("victim%other.test@edge.test", "Default")]
    [InlineData("other.test!victim@edge.test", "Default")]
    [InlineData("\"victim@other.test\"@edge.test", "Default")]
    [InlineData("\"victim%other.test\"@edge.test", "Default")]
    [InlineData("victim%relayed.example@localhost", "Relay")]
    [InlineData("victim%edge.test@localhost", "Local")]
    [InlineData("victim@other.test@edge.test", "Default")]
    public void A_local_domain_is_stripped_and_the_rest_resolved_again(string address, string expected)
    {
        Assert.Equal(new Resolution(Enum.Parse<AddressClass>(expected), false), Resolve(address));
    }

    [Fact]
    public void Routing_stays_when_the_next_operator_is_behind_a_remote_domain()
    {
        // a%b%other.test@edge.test: edge.test goes, then the rightmost % makes a%b@other.test, still routed.
        Assert.Equal(new Resolution(AddressClass.Default, true), Resolve("a%b%other.test@edge.test"));
        // A bang path is taken apart at its first "!": site!via!user becomes via!user@site.
        Assert.Equal(new Resolution(AddressClass.Default, true), Resolve("other.test!via!user@edge.test"));
    }

    [Fact]
    public void Without_the_percent_hack_or_bang_paths_the_operators_stay_and_route_a_local_address()
    {
        AddressClassifier classifier = Classifier(percentHack: false, swapBangpath: false);
        Assert.Equal(new Resolution(AddressClass.Local, true), Resolve("victim%other.test@edge.test", classifier));
        Assert.Equal(new Resolution(AddressClass.Local, true), Resolve("other.test!victim@edge.test", classifier));
        // An "@" inside quotes is still an address separator.
        Assert.Equal(new Resolution(AddressClass.Default, false), Resolve("\"victim@other.test\"@edge.test", classifier));
    }

    [Fact]
    public void Without_resolve_dequoted_address_a_quoted_local_part_stays_whole()
    {
        AddressClassifier classifier = Classifier(dequoted: false);
        Assert.Equal(new Resolution(AddressClass.Local, true), Resolve("\"victim@other.test\"@edge.test", classifier));
    }
}
