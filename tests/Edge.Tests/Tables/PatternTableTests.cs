using Edge.Tables;
using Edge.Tests.Support;

namespace Edge.Tests.Tables;

/// <summary>regexp_table(5) and cidr_table(5) files as Postfix reads them.</summary>
public class PatternTableTests
{
    private static ILookupTable Open(TempDirectory directory, string type, string text)
    {
        directory.Write("table", text);
        ILookupTable? table = TableFactory.Open($"{type}:{directory.File("table")}", DefaultTableSettings.Value, out string? error);
        Assert.True(table is not null, error);
        return table;
    }

    private static string Error(TempDirectory directory, string type, string text)
    {
        directory.Write("table", text);
        Assert.Null(TableFactory.Open($"{type}:{directory.File("table")}", DefaultTableSettings.Value, out string? error));
        return error!;
    }

    [Theory]
    [InlineData("user+tag@Example.COM", "user with tag at Example.COM, $ kept")]
    [InlineData("someone@example.org", "other: someone")]
    [InlineData("MAILER-DAEMON@example.org", "case toggled")]
    [InlineData("mailer-daemon@example.org", "other: mailer-daemon")]
    [InlineData("no-at-sign", "no at sign")]
    public void Regexp_tables_match_in_order_with_groups_negation_flags_and_if_blocks(string key, string expected)
    {
        using var directory = new TempDirectory();
        ILookupTable table = Open(directory, "regexp", """
            # comment

            /^([^+@]+)\+[^@]*@(example\.com)$/   ${1} with tag at $2, $$ kept
            /^MAILER-DAEMON@/i                  case toggled
            if /@example\.org$/
            /^([[:alnum:]-]+)@/                 other:
              $1
            endif
            !/@/                                no at sign
            """);
        Assert.Equal(expected, table.Lookup(key));
        Assert.True(table.IsPattern);
    }

    [Fact]
    public void A_regexp_table_finds_nothing_when_no_pattern_matches_and_runs_in_linear_time()
    {
        using var directory = new TempDirectory();
        ILookupTable table = Open(directory, "regexp", "/^(a+)+$/ hostile\n");
        Assert.Null(table.Lookup(new string('a', 50_000) + "!"));
    }

    [Theory]
    [InlineData("/a/ x\nendif\n", "line 2: \"endif\" without a matching \"if\"")]
    [InlineData("if /a/\n/b/ x\n", "line 1: \"if\" without a matching \"endif\"")]
    [InlineData("/(a)/ $2\n", "line 1: $2 in the result refers to no group of the pattern")]
    [InlineData("!/(a)/ $1\n", "line 1: $1 in the result refers to no group")]
    [InlineData("/(a)/ ${99999999999}\n", "line 1: ${99999999999} in the result refers to no group of the pattern")]
    [InlineData("/a/q x\n", "line 1: unknown flag 'q'")]
    [InlineData("/a/\n", "line 1: a pattern needs a result after it")]
    [InlineData("a x\n", "line 1: expected \"/pattern/flags result\"")]
    [InlineData("/[[:nonsense:]]/ x\n", "line 1: bad regular expression")]
    public void Bad_regexp_lines_are_named_with_file_and_line(string text, string message)
    {
        using var directory = new TempDirectory();
        string error = Error(directory, "regexp", text);
        Assert.Contains(directory.File("table") + ", " + message, error);
    }

    [Theory]
    [InlineData("mail.example.com", "no digits: mail.example.com")]
    [InlineData("host-198-51-100-9.dyn.example.net", "dynamic 198-51-100-9")]
    [InlineData("HOST-1-2-3-4.DYN.EXAMPLE.NET", "dynamic 1-2-3-4")]
    [InlineData("müller.example", "utf-8 müller")]
    [InlineData("x", null)]
    public void Pcre_tables_use_the_system_pcre2_with_its_own_syntax(string key, string? expected)
    {
        using var directory = new TempDirectory();
        ILookupTable table = Open(directory, "pcre", """
            /^host-(\d+(?:-\d+){3})\.dyn\./     dynamic $1
            /^(\w*ü\w*)\./                    utf-8 $1
            /^(?!.*\d)(.+\..+)$/               no digits: $1
            """);
        Assert.Equal(expected, table.Lookup(key));
        Assert.True(table.IsPattern);
    }

    [Theory]
    [InlineData("/(unclosed/ x\n", "line 1: bad regular expression \"(unclosed\" at offset 9: missing closing parenthesis")]
    [InlineData("/a/Q x\n", "line 1: unknown flag 'Q'")]
    [InlineData("/a/ ok\n/(b)/ $2\n", "line 2: $2 in the result refers to no group of the pattern")]
    public void Bad_pcre_lines_are_named_with_file_and_line(string text, string message)
    {
        using var directory = new TempDirectory();
        Assert.Contains(directory.File("table") + ", " + message, Error(directory, "pcre", text));
    }

    [Theory]
    [InlineData("192.0.2.77", "single")]
    [InlineData("192.0.2.78", "block")]
    [InlineData("198.51.100.1", null)]
    [InlineData("2001:db8:1::5", "v6")]
    [InlineData("::ffff:192.0.2.9", "block")]
    [InlineData("mail.example.com", null)]
    public void Cidr_tables_give_the_first_network_holding_the_address(string key, string? expected)
    {
        using var directory = new TempDirectory();
        ILookupTable table = Open(directory, "cidr", """
            192.0.2.77      single
            192.0.2.0/24    block
            [2001:db8::]/32 v6
            """);
        Assert.Equal(expected, table.Lookup(key));
    }

    [Fact]
    public void A_cidr_block_with_host_bits_is_refused_with_the_block_it_probably_meant()
    {
        using var directory = new TempDirectory();
        Assert.Contains("line 2: non-null host address bits in \"192.0.2.1/24\", perhaps you should use \"192.0.2.0/24\"",
            Error(directory, "cidr", "10.0.0.0/8 ok\n192.0.2.1/24 REJECT\n"));
    }
}
