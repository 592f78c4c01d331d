using System.Net;
using Edge.Config;

namespace Edge.Tests.Config;

public class MasterConfigTests
{
    [Fact]
    public void BuiltInMasterCfListensOn127001Port2525()
    {
        var master = MasterConfig.Load(null);

        Assert.Equal("built-in master.cf", master.File);
        var listener = Assert.Single(master.Listeners);
        Assert.Equal(new ListenEndpoint("127.0.0.1", 2525), listener.Endpoint! with { File = "", Line = 0 });
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 2525)], listener.Endpoint!.Resolve(MainConfig.Load(null)));
        Assert.Equal(["smtp", "relay", "error", "retry", "discard", "local", "virtual", "lmtp"], master.Transports.Select(t => t.Name));
        Assert.DoesNotContain(master.Services, s => s.Role == MasterServiceRole.Other);
    }

    [Fact]
    public void LoadsTheDirectorysMasterCfWithDefaultProcessLimitFromMainCf()
    {
        using var dir = new TempConfigDir()
            .WithMain("default_process_limit = 7\n")
            .WithMaster("smtp inet n - n - - smtpd\n587 inet n - n - - smtpd -o smtpd_helo_required=yes\nrelay unix - - n - - smtp\n");
        var main = MainConfig.Load(dir.Path);

        var master = MasterConfig.Load(dir.Path, main);

        Assert.Equal(dir.MasterCf, master.File);
        Assert.Equal([25, 587], master.Listeners.Select(l => l.Endpoint!.Port));
        Assert.Equal(7, master.Transports.Single().MaxProc);
        Assert.True(master.Listeners[1].ConfigFrom(main).GetBool("smtpd_helo_required"));
        Assert.False(master.Listeners[0].ConfigFrom(main).GetBool("smtpd_helo_required"));
    }

    [Fact]
    public void MissingMasterCfIsAnError()
    {
        using var dir = new TempConfigDir().WithMain("");

        var e = Assert.Throws<ConfigException>(() => MasterConfig.Load(dir.Path));

        Assert.Equal($"{dir.MasterCf}: cannot open file: No such file or directory", e.Message);
    }

    [Fact]
    public void ValidateChecksOverridesAtTheirMasterCfLine()
    {
        using var dir = new TempConfigDir()
            .WithMain("")
            .WithMaster("smtp inet n - n - - smtpd\n# submission\n587 inet n - n - - smtpd\n  -o smtpd_timeout=soon\n");
        var main = MainConfig.Load(dir.Path);

        var e = Assert.Throws<ConfigException>(() => MasterConfig.Load(dir.Path, main).Validate(main));

        Assert.Equal($"{dir.MasterCf}, line 3: parameter smtpd_timeout: bad time value \"soon\"", e.Message);
    }

    [Theory]
    [InlineData("loopback-only", "ipv4", "127.0.0.1")]
    [InlineData("loopback-only", "all", "127.0.0.1 ::1")]
    [InlineData("all", "ipv4", "0.0.0.0")]
    [InlineData("all", "all", "::")]
    [InlineData("127.0.0.1, [::1]", "all", "127.0.0.1 ::1")]
    [InlineData("localhost", "ipv6", "::1")]
    public void BarePortListensOnInetInterfaces(string interfaces, string protocols, string expected)
    {
        using var dir = new TempConfigDir()
            .WithMain($"inet_interfaces = {interfaces}\ninet_protocols = {protocols}\n")
            .WithMaster("2525 inet n - n - - smtpd\n");
        var main = MainConfig.Load(dir.Path);

        var addresses = MasterConfig.Load(dir.Path, main).Listeners.Single().Endpoint!.Resolve(main);

        Assert.Equal(expected.Split(' ').Select(a => new IPEndPoint(IPAddress.Parse(a), 2525)), addresses);
    }

    [Fact]
    public void UnresolvableListenHostIsAnErrorAtItsMasterCfLine()
    {
        using var dir = new TempConfigDir().WithMain("").WithMaster("# x\nno-such-host.invalid:25 inet n - n - - smtpd\n");
        var main = MainConfig.Load(dir.Path);
        var endpoint = MasterConfig.Load(dir.Path, main).Listeners.Single().Endpoint!;

        var e = Assert.Throws<ConfigException>(() => endpoint.Resolve(main));

        Assert.Equal(dir.MasterCf, e.File);
        Assert.Equal(2, e.Line);
        Assert.StartsWith($"{dir.MasterCf}, line 2: service no-such-host.invalid:25: cannot resolve host name", e.Message);
    }
}
