using Edge.Config;

namespace Edge.Tests.Config;

public class ExpansionTests
{
    static string Expand(string mainCf, string name)
    {
        using var dir = new TempConfigDir().WithMain(mainCf);
        return MainConfig.Load(dir.Path).Get(name);
    }

    [Theory]
    [InlineData("$a", "A")]
    [InlineData("${a}", "A")]
    [InlineData("$(a)", "A")]
    [InlineData("${ a }", "A")]
    [InlineData("$a.b|$a_b", "A.b|")]
    [InlineData("x$$y", "x$y")]
    [InlineData("$undefined", "")]
    public void ExpandsNames(string value, string expected) =>
        Assert.Equal(expected, Expand($"a = A\nmyorigin = {value}\n", "myorigin"));

    [Fact]
    public void ExpandsRecursivelyThroughDefaults() =>
        Assert.Equal(
            "mail.example.org, localhost.example.org, localhost",
            Expand("myhostname = mail.example.org\n", "mydestination"));

    [Fact]
    public void ExpandsNestedUserParameters() =>
        Assert.Equal("one two three", Expand("a = one $b\nb = two $c\nc = three\nmyorigin = $a\n", "myorigin"));

    [Theory]
    [InlineData("${a?yes}|${e?yes}|${a:no}|${e:no}|${zz:undef}", "yes|||no|undef")]
    [InlineData("${a?{T}:{F}}|${e?{T}:{F}}|${a ? {T} : {F}}", "T|F|T")]
    [InlineData("${a?{T}}|${e:{F}}|${a?{$a}:{$e}}", "T|F|A")]
    [InlineData("${a?$a$a}", "AA")]
    [InlineData("${a?; $a}", "; A")]
    public void ExpandsConditionalFormsAsPostfixDoes(string value, string expected) =>
        Assert.Equal(expected, Expand($"a = A\ne =\nmyorigin = {value}\n", "myorigin"));

    [Theory]
    [InlineData("${{1} < {2} ? {lt} : {ge}}", "lt")]
    [InlineData("${{10} <= {9} ? {le} : {gt}}", "gt")]
    [InlineData("${{1.2} <level {1.10} ? {lt} : {ge}}", "lt")]
    [InlineData("${{3.6} >=level {3.6} ? {yes} : {no}}", "yes")]
    [InlineData("${{$a} == {A} ? {eq}}", "eq")]
    [InlineData("${{$a} != {A} ? {ne}}", "")]
    [InlineData("${{$compatibility_level} <level {2} ? {subnet} : {host}}", "subnet")]
    public void ExpandsComparisons(string value, string expected) =>
        Assert.Equal(expected, Expand($"a = A\nmyorigin = {value}\n", "myorigin"));

    [Fact]
    public void RawParametersAreNotExpanded()
    {
        var config = MainConfig.Load(null);

        Assert.Equal(
            "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}",
            config.Get("default_rbl_reply"));
    }

    [Fact]
    public void LoopIsAnErrorAtTheParameterThatClosesIt()
    {
        using var dir = new TempConfigDir().WithMain("myorigin = $a\na = $b\nb = $a\n");
        var config = MainConfig.Load(dir.Path);

        var e = Assert.Throws<ConfigException>(() => config.Get("myorigin"));

        Assert.Equal($"{dir.MainCf}, line 2: parameter a: expansion loop: $a -> $b -> $a", e.Message);
        Assert.Equal(2, e.Line);
        Assert.Equal("a", e.Parameter);
    }

    [Fact]
    public void SelfReferenceIsALoop()
    {
        using var dir = new TempConfigDir().WithMain("myorigin = x $myorigin\n");

        var e = Assert.Throws<ConfigException>(() => MainConfig.Load(dir.Path).Get("myorigin"));

        Assert.Equal($"{dir.MainCf}, line 1: parameter myorigin: expansion loop: $myorigin -> $myorigin", e.Message);
    }

    [Theory]
    [InlineData("abc$", "empty macro name in \"abc$\"")]
    [InlineData("x$-y", "empty macro name in \"x$-y\"")]
    [InlineData("${}", "empty macro name in \"${}\"")]
    [InlineData("${a", "truncated macro reference in \"${a\"")]
    [InlineData("${a b}", "attribute name syntax error in \"${a b}\"")]
    [InlineData("${a?{x}y}", "\":\" expected in \"${a?{x}y}\"")]
    [InlineData("${{1} =< {2} ? {x}}", "\"==\" or \"!=\" or \"<\" or \"<=\" or \">=\" or \">\" expected in \"${{1} =< {2} ? {x}}\"")]
    [InlineData("${{x} < {2} ? {y}}", "bad numerical operand \"x\" in \"${{x} < {2} ? {y}}\"")]
    public void SyntaxErrorNamesTheParameterAndLine(string value, string reason)
    {
        using var dir = new TempConfigDir().WithMain($"a = A\nmyorigin = {value}\n");

        var e = Assert.Throws<ConfigException>(() => MainConfig.Load(dir.Path).Get("myorigin"));

        Assert.Equal($"{dir.MainCf}, line 2: parameter myorigin: {reason}", e.Message);
    }

    [Fact]
    public void ErrorInAReferencedValueNamesThatParameter()
    {
        using var dir = new TempConfigDir().WithMain("# banner\n\nmail_name = ${oops\n");

        var e = Assert.Throws<ConfigException>(() => MainConfig.Load(dir.Path).Get("smtpd_banner"));

        Assert.Equal($"{dir.MainCf}, line 3: parameter mail_name: truncated macro reference in \"${{oops\"", e.Message);
    }

    [Fact]
    public void MyoriginThatIsAPathIsReadFromThatFileAsDebianDoes()
    {
        using var dir = new TempConfigDir();
        var mailname = Path.Combine(dir.Path, "mailname");
        File.WriteAllText(mailname, "example.org\nignored\n");
        dir.WithMain($"myorigin = {mailname}\n");

        Assert.Equal("example.org", MainConfig.Load(dir.Path).Get("myorigin"));
    }

    [Fact]
    public void MyoriginFileThatCannotBeReadIsAnError()
    {
        using var dir = new TempConfigDir();
        var missing = Path.Combine(dir.Path, "no-mailname");
        dir.WithMain($"myorigin = {missing}\n");

        var e = Assert.Throws<ConfigException>(() => MainConfig.Load(dir.Path).Get("myorigin"));

        Assert.Equal($"{dir.MainCf}, line 1: parameter myorigin: cannot read {missing}: No such file or directory", e.Message);
    }
}
