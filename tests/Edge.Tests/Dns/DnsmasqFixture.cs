namespace Edge.Tests.Dns;

/// <summary>One dnsmasq with the test zone's records, shared by the tests that only read from it.</summary>
public sealed class DnsmasqFixture() : DnsZone(Records)
{
    /// <summary>Long TXT records for big.test: together far more than the 1232 bytes a UDP reply may carry.</summary>
    public static readonly string[] BigTxt = Enumerable.Range(0, 24)
        .Select(i => $"record{i:D2}-" + new string((char)('a' + i % 26), 200))
        .ToArray();

    public static IEnumerable<string> Records =>
    [
        "--mx-host=mail.test,mx2.mail.test,20",
        "--mx-host=mail.test,mx1.mail.test,10",
        "--mx-host=mail.test,mx3.mail.test,30",
        "--host-record=host.test,127.0.0.5,fd00::5",
        "--host-record=v4only.test,127.0.0.6",
        "--host-record=xn--bcher-kva.test,127.0.0.8",
        "--cname=alias.test,host.test",
        "--cname=alias2.test,alias.test",
        "--txt-record=txt.test,v=spf1 ip4:192.0.2.0/24 -all",
        "--txt-record=multi.test,part one ,part two",
        "--ptr-record=7.0.0.127.in-addr.arpa,ptr.test",
        .. BigTxt.Select(text => $"--txt-record=big.test,{text}"),
    ];
}
