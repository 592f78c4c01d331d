using System.Net.Sockets;
using Edge.Tests.Support;

namespace Edge.Tests.Metrics;

/// <summary>The queue page (GET /queue with edge_admin_api), loaded in Debian's headless Chromium as an administrator's browser would.</summary>
public class QueuePageTests
{
    /// <summary>Where the page's screenshot is kept: EDGE_TEST_ARTIFACTS (test.sh points it into TestResults), or beside the tests.</summary>
    private static string ArtifactDirectory()
    {
        string directory = Environment.GetEnvironmentVariable("EDGE_TEST_ARTIFACTS") ?? Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(directory);
        return directory;
    }

    private static Task<(int Exit, string Output)> ChromiumAsync(params string[] args) =>
        Peer.RunAsync("chromium", "chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", .. args]);

    [Fact]
    public async Task A_held_and_a_deferred_message_are_on_the_page_with_the_deferral_reason_and_the_destination()
    {
        int metricsPort = FreePorts.Tcp();
        using Socket refusing = FreePorts.Refusing();
        int closed = refusing.Port();
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $$"""

            edge_metrics_listen = 127.0.0.1:{{metricsPort}}
            edge_admin_api = yes
            relay_domains = held.example, down.example
            transport_maps = inline:{ down.example=smtp:[127.0.0.1]:{{closed}} }
            smtpd_recipient_restrictions = check_recipient_access inline:{ held.example=HOLD }, permit_mynetworks, reject_unauth_destination
            minimal_backoff_time = 1h
            """ + "\n");
        config.Write("master.cf", """
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            smtp      unix  -       -       n       -       -       smtp
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string held = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: held\r\n\r\nbody\r\n", "user@held.example");
        string deferred = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: deferred\r\n\r\nbody\r\n", "user@down.example");
        await edge.WaitForLogAsync($@"{deferred}: to=<user@down\.example>.*status=deferred");

        string url = $"http://127.0.0.1:{metricsPort}/queue";
        (int exit, string dom) = await ChromiumAsync("--dump-dom", url);
        Assert.True(exit == 0, dom);
        Assert.Contains("<title>mx.edge.test queue</title>", dom);
        Assert.Matches(@"<table id=""queues"">.*<td>0</td><td>0</td><td>1</td><td>1</td>", dom);
        Assert.Matches($@"<tr><td class=""l"">{held}</td><td class=""l"">hold</td>.*user@held\.example</td></tr>", dom);
        Assert.Matches($@"<tr><td class=""l"">{deferred}</td><td class=""l"">deferred</td>.*user@down\.example</td></tr>", dom);
        Assert.Matches($@"<td>1</td><td class=""l"">connect to 127\.0\.0\.1\[127\.0\.0\.1\]:{closed}: Connection refused</td>", dom);
        Assert.Matches($@"<tr><td class=""l"">smtp</td><td class=""l"">\[127\.0\.0\.1\]:{closed}</td><td>\d+</td><td>0</td>", dom);
        Assert.Matches(@"<td class=""l"">down\.example</td><td>1</td>", dom);
        // The last minute: two messages queued, one recipient deferred.
        Assert.Matches(@"<table id=""rates"">.*<td>2</td><td>0</td><td>1</td><td>0</td>", dom);

        string screenshot = Path.Combine(ArtifactDirectory(), "queue-page.png");
        File.Delete(screenshot);
        (exit, string output) = await ChromiumAsync("--window-size=1280,1400", "--hide-scrollbars", $"--screenshot={screenshot}", url);
        Assert.True(exit == 0, output);
        byte[] png = await File.ReadAllBytesAsync(screenshot);
        Assert.True(png.Length > 10_000 && png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10 }));
    }
}
