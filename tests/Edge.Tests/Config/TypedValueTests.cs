using Edge.Config;

namespace Edge.Tests.Config;

public class TypedValueTests
{
    // Loads "# first line\n<name> = <value>" so every error is at line 2 of the temp main.cf.
    static T Read<T>(string name, string value, Func<MainConfig, string, T> get)
    {
        using var dir = new TempConfigDir().WithMain($"# first line\n{name} = {value}\n");
        return get(MainConfig.Load(dir.Path), name);
    }

    static void AssertBad<T>(string name, string value, Func<MainConfig, string, T> get, string reason)
    {
        using var dir = new TempConfigDir().WithMain($"# first line\n{name} = {value}\n");
        var config = MainConfig.Load(dir.Path);

        var e = Assert.Throws<ConfigException>(() => get(config, name));

        Assert.Equal(dir.MainCf, e.File);
        Assert.Equal(2, e.Line);
        Assert.Equal(name, e.Parameter);
        Assert.Equal($"{dir.MainCf}, line 2: parameter {name}: {reason}", e.Message);
    }

    [Theory]
    [InlineData("yes", true)]
    [InlineData("no", false)]
    [InlineData("YES", true)]
    [InlineData("No", false)]
    public void GetBoolReadsYesAndNo(string value, bool expected) =>
        Assert.Equal(expected, Read("smtpd_helo_required", value, (c, n) => c.GetBool(n)));

    [Theory]
    [InlineData("maybe")]
    [InlineData("true")]
    [InlineData("1")]
    [InlineData("")]
    public void GetBoolRejectsOtherWords(string value) =>
        AssertBad("smtpd_helo_required", value, (c, n) => c.GetBool(n), $"bad boolean value \"{value}\" (expected yes or no)");

    [Fact]
    public void GetIntReadsANumber() => Assert.Equal(250, Read("smtpd_recipient_limit", "250", (c, n) => c.GetInt(n)));

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1k")]
    [InlineData("2147483648")]
    public void GetIntRejectsNonNumbers(string value) =>
        AssertBad("smtpd_recipient_limit", value, (c, n) => c.GetInt(n), $"bad integer value \"{value}\"");

    [Fact]
    public void GetLongReadsLargeNumbers() =>
        Assert.Equal(10_000_000_000L, Read("message_size_limit", "10000000000", (c, n) => c.GetLong(n)));

    [Fact]
    public void GetLongRejectsNonNumbers() =>
        AssertBad("message_size_limit", "10MB", (c, n) => c.GetLong(n), "bad integer value \"10MB\"");

    [Theory]
    [InlineData("smtpd_timeout", "300s", 300)]
    [InlineData("smtpd_timeout", "5m", 300)]
    [InlineData("smtpd_timeout", "2h", 7200)]
    [InlineData("smtpd_timeout", "1d", 86400)]
    [InlineData("smtpd_timeout", "1w", 604800)]
    [InlineData("smtpd_timeout", "45", 45)]
    [InlineData("delay_warning_time", "4", 4 * 3600)]
    [InlineData("maximal_queue_lifetime", "2", 2 * 86400)]
    [InlineData("smtpd_error_sleep_time", "0", 0)]
    public void GetTimeReadsUnitsAndTheDefaultUnitOfABareNumber(string name, string value, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Read(name, value, (c, n) => c.GetTime(n)));

    [Theory]
    [InlineData("abc")]
    [InlineData("5x")]
    [InlineData("1h30m")]
    [InlineData("-5s")]
    [InlineData("s")]
    [InlineData("")]
    [InlineData("99999999999999w")]
    public void GetTimeRejectsBadTimes(string value) =>
        AssertBad("smtpd_timeout", value, (c, n) => c.GetTime(n), $"bad time value \"{value}\"");

    [Fact]
    public void GetTimeOfDefaultsUsesPostfixDefaults()
    {
        var config = MainConfig.Load(null);

        Assert.Equal(TimeSpan.FromSeconds(300), config.GetTime("smtpd_timeout"));
        Assert.Equal(TimeSpan.FromDays(5), config.GetTime("maximal_queue_lifetime"));
        Assert.Equal(TimeSpan.Zero, config.GetTime("delay_warning_time"));
    }

    [Theory]
    [InlineData("a, b c,,d\te", new[] { "a", "b", "c", "d", "e" })]
    [InlineData("", new string[0])]
    [InlineData(" , ", new string[0])]
    [InlineData("check_client_access inline:{ 1.2.3.4=REJECT, 5.6.7.8=OK }, permit",
        new[] { "check_client_access", "inline:{ 1.2.3.4=REJECT, 5.6.7.8=OK }", "permit" })]
    [InlineData("{ a, { b c } }, d", new[] { "{ a, { b c } }", "d" })]
    public void GetListSplitsOnCommasAndSpaceKeepingBraceGroups(string value, string[] expected) =>
        Assert.Equal(expected, Read("smtpd_client_restrictions", value, (c, n) => c.GetList(n)));

    [Fact]
    public void GetListExpandsBeforeSplitting() =>
        Assert.Equal(["a", "b", "c"], Read("relay_domains", "$x, c\nx = a b", (c, n) => c.GetList(n)));

    [Theory]
    [InlineData("inline:{ a=b", "missing '}' in \"inline:{ a=b\"")]
    [InlineData("a } b", "unexpected '}' in \"a } b\"")]
    public void GetListRejectsUnbalancedBraces(string value, string reason) =>
        AssertBad("smtpd_client_restrictions", value, (c, n) => c.GetList(n), reason);

    [Fact]
    public void ErrorInAnUnsetParameterNamesMainCfWithoutALine()
    {
        using var dir = new TempConfigDir()
            .WithMain("default_destination_recipient_limit = lots\n")
            .WithMaster("relay unix - - n - - smtp\n");
        var config = MainConfig.Load(dir.Path);

        var e = Assert.Throws<ConfigException>(() => config.GetInt("relay_destination_recipient_limit"));

        Assert.Equal($"{dir.MainCf}: parameter relay_destination_recipient_limit: bad integer value \"lots\"", e.Message);
        Assert.Equal(0, e.Line);
    }

    [Fact]
    public void OverrideErrorNamesTheMasterCfLine()
    {
        var config = MainConfig.Load(null).WithOverrides([new("smtpd_timeout", "abc")], "/etc/edge/master.cf", 7);

        var e = Assert.Throws<ConfigException>(() => config.GetTime("smtpd_timeout"));

        Assert.Equal("/etc/edge/master.cf, line 7: parameter smtpd_timeout: bad time value \"abc\"", e.Message);
    }
}
