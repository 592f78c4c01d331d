using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>Edge's mail log read by pflogsumm (Debian's package), as an administrator's reports read Postfix's.</summary>
public class LogReportTests
{
    [Fact]
    public async Task Pflogsumm_counts_what_edge_did()
    {
        await using var sink = await SmtpSink.StartAsync();
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nrelayhost = [127.0.0.1]:{sink.Port}\n" + """
            transport_maps = inline:{ { error.example = error:5.1.1 no such user } }
            mynetworks = 127.0.0.0/8
            """ + "\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            error     unix  -       -       n       -       -       error
            """);
        await using (var edge = await EdgeProcess.StartAsync(config.Path, config.Path))
        {
            foreach (string recipient in new[] { "u1@remote.example", "u2@remote.example", "u3@remote.example", "x@error.example" })
            {
                var (exit, output) = await Peer.SwaksAsync("--server", $"127.0.0.1:{edge.Port}", "--to", recipient, "--from", "a@example.org");
                Assert.True(exit == 0, output);
            }
            await edge.WaitForLogAsync(@"sender non-delivery notification: (\w+)");
            string notice = edge.Log.First(l => l.Contains("sender non-delivery notification")).Split(' ')[^1];
            await edge.WaitForLogAsync($@"{notice}: removed");
            Assert.Equal(0, await edge.TerminateAsync());
            config.Write("maillog", string.Join("\n", edge.Log) + "\n");
        }
        var (code, report) = await Peer.RunAsync("pflogsumm", "pflogsumm", "--syslog-name=edge", config.File("maillog"));
        Assert.True(code == 0, report);
        Assert.Matches(@"\n\s+4\s+received\n", report);
        // Three relayed messages and the notice to the sender.
        Assert.Matches(@"\n\s+4\s+delivered\n", report);
        Assert.Matches(@"\n\s+1\s+bounced\n", report);
        Assert.Matches(@"\n\s+0\s+deferred\n", report);
    }
}
