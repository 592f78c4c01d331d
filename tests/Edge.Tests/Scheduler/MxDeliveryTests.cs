using Edge.Tests.Delivery;
using Edge.Tests.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>Delivery by MX, with a real DNS server (dnsmasq) on 127.0.0.1 as edge_dns_servers.</summary>
public class MxDeliveryTests
{
    /// <summary>Edge asking dnsmasq, with the smtp transport and these transport_maps entries.</summary>
    private static TempDirectory Config(Dnsmasq dns, string routes)
    {
        var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nedge_dns_servers = {dns.EndPoint}\ntransport_maps = inline:{{ {routes} }}\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\nqmgr unix n - n 300 1 qmgr\nsmtp unix - - n - - smtp\n");
        return config;
    }

    [Fact]
    public async Task Exchangers_are_tried_by_preference_and_dns_failures_are_reported()
    {
        await using var sink = await SmtpSink.StartAsync();
        using Dnsmasq dns = await Dnsmasq.StartAsync([
            "--mx-host=mx.test,mx1.mx.test,10",
            "--mx-host=mx.test,mx2.mx.test,20",
            // Nothing listens on 127.0.0.2: the first exchanger refuses, the second (smtp-sink) takes it.
            "--host-record=mx1.mx.test,127.0.0.2",
            "--host-record=mx2.mx.test,127.0.0.1",
        ]);
        using TempDirectory config = Config(dns, $"mx.test=smtp:mx.test:{sink.Port}, missing.test=smtp:missing.test:{sink.Port}");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var c = await SmtpConnection.OpenAsync(edge.Port))
        {
            await c.EnvelopeAsync("a@example.org", "user@mx.test");
            Assert.StartsWith("250 2.1.5", await c.CommandAsync("RCPT TO:<user@missing.test>"));
            await c.CommandAsync("DATA");
            Assert.StartsWith("250 2.0.0 Ok: queued", await c.CommandAsync("Subject: by mx\r\n\r\nx\r\n."));
        }
        await edge.WaitForLogAsync($@"to=<user@mx\.test>, relay=mx2\.mx\.test\[127\.0\.0\.1\]:{sink.Port}, .*status=sent");
        await edge.WaitForLogAsync(@"to=<user@missing\.test>, relay=none, .*dsn=5\.4\.4, status=bounced \(Host or domain name not found\. Name service error for name=missing\.test type=MX: Host not found\)");
    }

    [Fact]
    public async Task Without_mx_the_address_is_used_brackets_skip_mx_and_a_failing_name_service_defers()
    {
        await using var sink = await SmtpSink.StartAsync();
        using Dnsmasq dns = await Dnsmasq.StartAsync([
            // No MX: the domain's own address.
            "--host-record=plain.test,127.0.0.1",
            // An MX to a host that refuses, and an address of its own where smtp-sink listens.
            "--mx-host=both.test,refuses.both.test,10",
            "--host-record=refuses.both.test,127.0.0.2",
            "--host-record=both.test,127.0.0.1",
        ]);
        using TempDirectory config = Config(dns, $"plain.test=smtp:plain.test:{sink.Port}, bracket.test=smtp:[both.test]:{sink.Port}, " +
            $"both.test=smtp:both.test:{sink.Port}, elsewhere.example=smtp:elsewhere.example:{sink.Port}");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string[] recipients = ["u@plain.test", "u@bracket.test", "u@both.test", "u@elsewhere.example"];
        string id = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: routes\r\n\r\nx", recipients);

        // Both reach smtp-sink on 127.0.0.1; the relay's name is the one of whichever delivery opened the
        // connection, since connections are cached per server address, as Postfix's are.
        await edge.WaitForLogAsync($@"{id}: to=<u@plain\.test>, relay=[\w.]+\[127\.0\.0\.1\]:{sink.Port}, .*status=sent");
        await edge.WaitForLogAsync($@"{id}: to=<u@bracket\.test>, relay=[\w.]+\[127\.0\.0\.1\]:{sink.Port}, .*status=sent");
        // Without brackets the MX is what counts, and it refuses.
        await edge.WaitForLogAsync($@"{id}: to=<u@both\.test>, relay=none, .*status=deferred \(connect to refuses\.both\.test\[127\.0\.0\.2\]:{sink.Port}: Connection refused\)");
        // dnsmasq answers only for .test: a name server that will not answer defers, it does not bounce.
        await edge.WaitForLogAsync($@"{id}: to=<u@elsewhere\.example>, relay=none, .*dsn=4\.4\.3, status=deferred \(Host or domain name not found\. Name service error for name=elsewhere\.example type=MX: Host not found, try again\)");
    }
}
