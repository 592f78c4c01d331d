using Edge.Delivery.Local;

namespace Edge.Tests.Delivery;

/// <summary>local(8)'s parsing of alias values and .forward lines, and its $name expansion of a recipient's attributes.</summary>
public class LocalExpansionTests
{
    private static readonly LocalRecipient Tagged = LocalRecipient.Parse("Ann+Lists@Example.org", "+");

    [Fact]
    public void Destinations_are_separated_by_commas_and_quotes_keep_a_command_whole()
    {
        Assert.Equal(["ann", "|/usr/bin/vacation -a x, y", "/var/log/mail", ":include:/etc/lists/staff", "\\ann", "bob@example.org"],
            DestinationList.Parse("ann, \"|/usr/bin/vacation -a x, y\",/var/log/mail , :include:/etc/lists/staff,\\ann,bob@example.org,"));
        Assert.Equal(["a", "b", "c"], DestinationList.ParseLines("# comment, not a destination\na, b\n\nc\n"));
    }

    [Fact]
    public void A_recipient_is_folded_to_lower_case_and_split_at_the_delimiter()
    {
        Assert.Equal(new LocalRecipient("Ann+Lists@Example.org", "ann+lists", "ann", "lists", "+", "Example.org"), Tagged);
        Assert.Equal(("ann", ""), (LocalRecipient.Parse("Ann@x", "+").User, LocalRecipient.Parse("Ann@x", "+").Extension));
    }

    [Fact]
    public void Forward_path_entries_expand_and_one_naming_an_empty_attribute_is_undefined()
    {
        var user = new Edge.Unix.UnixUser("ann", 1000, 1000, "/home/ann", "/bin/sh");
        const string First = "$home/.forward${recipient_delimiter}${extension}";
        Assert.Equal("/home/ann/.forward+lists", LocalExpansion.Expand(First, Tagged.Attributes(user), null, out bool undefined));
        Assert.False(undefined);
        LocalExpansion.Expand(First, LocalRecipient.Parse("ann@x", "+").Attributes(user), null, out undefined);
        Assert.True(undefined);
        Assert.Equal("/home/ann/.forward", LocalExpansion.Expand("$home/.forward", LocalRecipient.Parse("ann@x", "+").Attributes(user), null, out undefined));
        Assert.False(undefined);
    }

    [Fact]
    public void Conditional_forms_and_the_filter_apply()
    {
        var attributes = Tagged.Attributes(null);
        Assert.Equal("box-lists", LocalExpansion.Expand("box${extension?-}$extension", attributes));
        Assert.Equal("box", LocalExpansion.Expand("box${home?{/h}}${shell:}", attributes));
        Assert.Equal("[yes]", LocalExpansion.Expand("[${extension?{yes}:{no}}]", attributes));
        Assert.Equal("[no]", LocalExpansion.Expand("[${home?{yes}:{no}}]", attributes));
        var hostile = LocalRecipient.Parse("a;rm$x`@example.org", "").Attributes(null);
        Assert.Equal("/m/a_rm_x_", LocalExpansion.Expand("/m/$user", hostile, "abcdefghijklmnopqrstuvwxyz_"));
    }
}
