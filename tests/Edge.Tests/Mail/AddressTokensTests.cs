using Edge.Mail;

namespace Edge.Tests.Mail;

/// <summary>
/// The tok822 port against Postfix's own test vectors (tok822_parse.ref from Postfix's source, src/global: each
/// input parsed with a limit of 20 tokens and written back with a newline after each comma), and hostile input.
/// </summary>
public class AddressTokensTests
{
    private static readonly string Reference = Path.Combine(Support.Repository.Source, "..", "..", "tests", "Edge.Tests", "Mail", "tok822_parse.ref");

    public static TheoryData<string, string> PostfixVectors()
    {
        var data = new TheoryData<string, string>();
        string text = File.ReadAllText(Reference);
        foreach (string block in text.Split(">>>", StringSplitOptions.RemoveEmptyEntries))
        {
            int end = block.IndexOf("<<<", StringComparison.Ordinal);
            const string Marker = "Externalized, newlines inserted:\n";
            int start = block.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length;
            int stop = block.IndexOf("\n\n", start, StringComparison.Ordinal);
            data.Add(block[..end], block[start..(stop < 0 ? block.TrimEnd('\n').Length : stop)]);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PostfixVectors))]
    public void A_header_value_is_written_back_as_postfix_writes_it(string input, string expected)
    {
        Assert.Equal(expected, AddressTokens.Externalize(AddressTokens.Parse(input, 20)));
    }

    [Fact]
    public void The_postfix_vectors_are_all_read()
    {
        Assert.Equal(19, PostfixVectors().Count);
    }

    [Theory]
    [InlineData("\"unterminated")]
    [InlineData("(unterminated comment")]
    [InlineData("[unterminated literal")]
    [InlineData("trailing backslash\\")]
    [InlineData("<<<>>>,,,;;;:::@@@")]
    [InlineData("a:b:c;d;e<f<g>h>")]
    [InlineData(">")]
    [InlineData("")]
    public void Hostile_values_parse_and_write_back_without_failing(string input)
    {
        AddressToken? list = AddressTokens.Parse(input, 10240);
        foreach (AddressToken address in AddressTokens.Addresses(list))
        {
            AddressTokens.Replace(address, AddressTokens.Internalize(address) + "x");
        }
        Assert.NotNull(AddressTokens.Externalize(list));
    }

    [Fact]
    public void Thousands_of_tokens_stop_at_the_limit()
    {
        string input = string.Join(", ", Enumerable.Range(0, 20_000).Select(i => $"user{i}@example.org"));
        AddressToken? list = AddressTokens.Parse(input, 10240);
        // Six tokens an address (user, @, example, ., org and the comma): the limit cuts the 1,707th.
        Assert.Equal(1707, AddressTokens.Addresses(list).Count);
    }
}
