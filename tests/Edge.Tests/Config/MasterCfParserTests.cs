using Edge.Config;

namespace Edge.Tests.Config;

public class MasterCfParserTests
{
    const string File = "/etc/edge/master.cf";

    static MasterService One(string text) => Assert.Single(MasterCfParser.Parse(text, File));

    [Fact]
    public void ParsesTheColumns()
    {
        var service = One("tlsmgr    unix  -       y       n       1000?   1       tlsmgr\n");

        Assert.Equal("tlsmgr", service.Name);
        Assert.Equal(MasterServiceType.Unix, service.Type);
        Assert.True(service.Private);
        Assert.True(service.Unprivileged);
        Assert.False(service.Chroot);
        Assert.Equal(1000, service.Wakeup);
        Assert.Equal(1, service.MaxProc);
        Assert.Equal("tlsmgr", service.Command);
        Assert.Equal((File, 1), (service.File, service.Line));
        Assert.Empty(service.Args);
        Assert.Empty(service.Overrides);
        Assert.Null(service.Endpoint);
        Assert.Equal(MasterServiceRole.Internal, service.Role);
    }

    [Fact]
    public void DashMeansTheColumnDefault()
    {
        var service = One("relay unix - - - - - smtp\n");

        Assert.True(service.Private);
        Assert.True(service.Unprivileged);
        Assert.False(service.Chroot);
        Assert.Equal(0, service.Wakeup);
        Assert.Equal(100, service.MaxProc);
    }

    [Fact]
    public void DashMaxprocIsTheGivenDefaultProcessLimitAndZeroIsNoLimit()
    {
        var services = MasterCfParser.Parse("a unix - - - - - smtp\nb unix - - - - 0 smtp\n", File, defaultProcessLimit: 7);

        Assert.Equal([7, 0], services.Select(s => s.MaxProc));
    }

    [Theory]
    [InlineData("inet", MasterServiceType.Inet)]
    [InlineData("unix", MasterServiceType.Unix)]
    [InlineData("unix-dgram", MasterServiceType.UnixDgram)]
    [InlineData("fifo", MasterServiceType.Fifo)]
    [InlineData("pass", MasterServiceType.Pass)]
    public void ParsesEveryType(string type, MasterServiceType expected) =>
        Assert.Equal(expected, One($"2525 {type} n - n - - x\n").Type);

    [Fact]
    public void ParsesOverridesInEveryForm()
    {
        var service = One("""
            submission inet n - n - - smtpd
              -o syslog_name=postfix/submission
            # a comment between continuation lines

              -o { smtpd_client_restrictions = permit_sasl_authenticated, reject }
              -osmtpd_tls_security_level=encrypt -v
              -o smtpd_helo_required=yes
            """);

        Assert.Equal(
            [
                new("syslog_name", "postfix/submission"),
                new("smtpd_client_restrictions", "permit_sasl_authenticated, reject"),
                new("smtpd_tls_security_level", "encrypt"),
                new("smtpd_helo_required", "yes"),
            ],
            service.Overrides);
        Assert.Equal(["-v"], service.Args);
        Assert.Equal(1, service.Line);
    }

    [Fact]
    public void OptionsEndAtTheFirstArgumentSoACommandKeepsItsOwnDashO()
    {
        var service = One("uucp unix - n n - - pipe\n  flags=Fqhu user=uucp argv=uux -r -o { a b } $nexthop!rmail ($recipient)\n");

        Assert.Empty(service.Overrides);
        Assert.Equal(["flags=Fqhu", "user=uucp", "argv=uux", "-r", "-o", "a b", "$nexthop!rmail", "($recipient)"], service.Args);
        Assert.Equal(MasterServiceRole.Transport, service.Role);
    }

    [Theory]
    [InlineData("smtp inet n - n -\n", "bad field count")]
    [InlineData("smtp bogus n - n - - smtpd\n", "invalid type field \"bogus\"")]
    [InlineData("smtp inet q - n - - smtpd\n", "invalid private field \"q\"")]
    [InlineData("smtp inet n yes n - - smtpd\n", "invalid unprivileged field \"yes\"")]
    [InlineData("smtp inet n - x - - smtpd\n", "invalid chroot field \"x\"")]
    [InlineData("smtp inet n - n 5x - smtpd\n", "invalid wakeup field \"5x\"")]
    [InlineData("smtp inet n - n - x smtpd\n", "invalid process_limit field \"x\"")]
    [InlineData("smtp inet n - n - -1 smtpd\n", "invalid process_limit field \"-1\"")]
    [InlineData("smtp inet n - n - - smtpd -o foo\n", "-o foo: missing '=' after attribute name")]
    [InlineData("smtp inet n - n - - smtpd -o { = x }\n", "-o = x: missing attribute name")]
    [InlineData("smtp inet n - n - - smtpd -o\n", "-o without name=value")]
    [InlineData("smtp inet n - n - - smtpd -o {a=b\n", "missing '}' in \"smtp inet n - n - - smtpd -o {a=b\"")]
    [InlineData("smtp.example inet n - n - - smtpd\n", "bad inet service name \"smtp.example\": bad port \"smtp.example\"")]
    public void BadLineIsAnErrorWithFileAndLine(string line, string reason)
    {
        var e = Assert.Throws<ConfigException>(() => MasterCfParser.Parse("# header\n" + line, File));

        Assert.Equal($"{File}, line 2: {reason}", e.Message);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void IndentedFirstLineIsAnError()
    {
        var e = Assert.Throws<ConfigException>(() => MasterCfParser.Parse("  smtp inet n - n - - smtpd\n", File));

        Assert.Equal($"{File}, line 1: logical line must not start with white space: \"  smtp inet n - n - - smtpd\"", e.Message);
    }

    [Fact]
    public void DuplicateServiceIsAnErrorButOneNameMayHaveTwoTypes()
    {
        var services = MasterCfParser.Parse("smtp inet n - n - - smtpd\nsmtp unix - - n - - smtp\n", File);
        Assert.Equal(2, services.Count);

        var e = Assert.Throws<ConfigException>(() => MasterCfParser.Parse("smtp inet n - n - - smtpd\nsmtp unix - - n - - smtp\nsmtp inet n - n - - smtpd\n", File));
        Assert.Equal($"{File}, line 3: duplicate service smtp/inet (first at line 1)", e.Message);
    }

    [Theory]
    [InlineData("smtp", null, 25)]
    [InlineData("submission", null, 587)]
    [InlineData("smtps", null, 465)]
    [InlineData("2525", null, 2525)]
    [InlineData("127.0.0.1:0", "127.0.0.1", 0)]
    [InlineData("127.0.0.1:2525", "127.0.0.1", 2525)]
    [InlineData("[::1]:2525", "::1", 2525)]
    [InlineData("localhost:smtp", "localhost", 25)]
    [InlineData("mx.example.org:submission", "mx.example.org", 587)]
    public void ParsesListenEndpoints(string name, string? host, int port)
    {
        var service = One($"{name} inet n - n - - smtpd\n");

        Assert.Equal(host, service.Endpoint!.Host);
        Assert.Equal(port, service.Endpoint.Port);
        Assert.Equal(MasterServiceRole.Listener, service.Role);
    }

    [Theory]
    [InlineData("foo", "bad port \"foo\"")]
    [InlineData("[::1]", "expected [address]:port")]
    [InlineData("[nothost]:25", "bad address \"nothost\"")]
    [InlineData("1.2.3.4:-1", "bad port \"-1\"")]
    [InlineData("1.2.3.4:+25", "bad port \"+25\"")]
    [InlineData("1.2.3.4:70000", "bad port \"70000\"")]
    [InlineData(":25", "missing host before ':'")]
    public void RejectsBadListenEndpoints(string name, string error)
    {
        Assert.Null(ListenEndpoint.Parse(name, out var reason));
        Assert.Equal(error, reason);
    }

    [Fact]
    public void RolesFollowTypeAndCommand()
    {
        var services = MasterCfParser.Parse("""
            smtp      inet  n       -       n       -       -       smtpd
            smtpd     pass  -       -       n       -       -       smtpd
            pickup    unix  n       -       n       60      1       pickup
            relay     unix  -       -       n       -       -       smtp
            spamd     unix  -       n       n       -       -       spamd
            """, File);

        Assert.Equal(
            [MasterServiceRole.Listener, MasterServiceRole.Screened, MasterServiceRole.Internal, MasterServiceRole.Transport, MasterServiceRole.Other],
            services.Select(s => s.Role));
    }
}
