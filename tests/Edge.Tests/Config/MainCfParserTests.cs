using Edge.Config;

namespace Edge.Tests.Config;

public class MainCfParserTests
{
    const string File = "/etc/edge/main.cf";

    [Fact]
    public void ParsesNameValueWithOptionalSpaceAroundEquals()
    {
        var entries = MainCfParser.Parse("a = 1\nb=2\nc  =   three words  \nd =\n", File);

        Assert.Equal(
            [new("a", "1", 1), new("b", "2", 2), new("c", "three words", 3), new("d", "", 4)],
            entries);
    }

    [Fact]
    public void ContinuationLinesJoinWithOneSpaceAndKeepTheFirstLineNumber()
    {
        var entries = MainCfParser.Parse("x = 1\nmydestination = a,\n    b,\n\tc\ny = 2\n", File);

        Assert.Equal(new MainCfEntry("mydestination", "a, b, c", 2), entries[1]);
        Assert.Equal(new MainCfEntry("y", "2", 5), entries[2]);
    }

    [Fact]
    public void CommentAndBlankLinesAreSkippedEvenInsideAContinuation()
    {
        var text = "# comment\n\nmyorigin = a # not a comment\n  # an indented comment\n\n  b\n#x\n";

        var entry = Assert.Single(MainCfParser.Parse(text, File));

        Assert.Equal(new MainCfEntry("myorigin", "a # not a comment b", 3), entry);
    }

    [Fact]
    public void AcceptsCrLfLineEndings()
    {
        var entries = MainCfParser.Parse("a = 1\r\n  2\r\nb = 3\r\n", File);

        Assert.Equal([new("a", "1 2", 1), new("b", "3", 3)], entries);
    }

    [Theory]
    [InlineData("a = 1\ngarbage\n", 2, "missing '=' after attribute name: \"garbage\"")]
    [InlineData("= x\n", 1, "missing attribute name: \"= x\"")]
    [InlineData("my origin = x\n", 1, "missing '=' after attribute name: \"my origin = x\"")]
    [InlineData("# c\n  indented = 1\n", 2, "logical line must not start with white space: \"  indented = 1\"")]
    public void BadLineIsAnErrorWithFileAndLine(string text, int line, string reason)
    {
        var e = Assert.Throws<ConfigException>(() => MainCfParser.Parse(text, File));

        Assert.Equal(File, e.File);
        Assert.Equal(line, e.Line);
        Assert.Null(e.Parameter);
        Assert.Equal($"{File}, line {line}: {reason}", e.Message);
    }
}
