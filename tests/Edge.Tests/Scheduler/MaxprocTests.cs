using System.Runtime.Versioning;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>master.cf's maxproc caps how many runs of a transport's agent there are at once.</summary>
[UnsupportedOSPlatform("windows")]
public class MaxprocTests
{
    // Each run notes when it starts and ends, and takes a while.
    private const string Script = """
        #!/bin/sh
        echo "$(date +%s%N) start" >> "$1/runs"
        sleep 0.4
        cat > /dev/null
        echo "$(date +%s%N) end" >> "$1/runs"
        """;

    [Fact]
    public async Task No_more_runs_at_once_than_maxproc_however_many_the_window_allows()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + """

            relay_domains = slow.example
            transport_maps = inline:{ slow.example=slow: }
            slow_destination_recipient_limit = 1
            initial_destination_concurrency = 5
            """ + "\n");
        config.Write("slow.sh", Script.Replace("\r\n", "\n"));
        File.SetUnixFileMode(config.File("slow.sh"), (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(config.File("out"));
        File.SetUnixFileMode(config.File("out"), (UnixFileMode)0b111_111_111);
        config.Write("master.cf", $"""
            127.0.0.1:0 inet n - n - - smtpd
            qmgr      unix  n       -       n       300     1       qmgr
            slow      unix  -       n       n       -       2       pipe user=nobody argv={config.File("slow.sh")} {config.File("out")}
            """);
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        string[] recipients = [.. Enumerable.Range(1, 5).Select(i => $"u{i}@slow.example")];
        string id = await SmtpConnection.SendMessageAsync(edge.Port, "Subject: five runs\r\n\r\nx", recipients);
        await edge.WaitForLogAsync($@"{id}: removed");

        int running = 0, most = 0;
        foreach (string line in (await File.ReadAllLinesAsync(config.File("out/runs"))).OrderBy(l => long.Parse(l.Split(' ')[0])))
        {
            running += line.EndsWith(" start") ? 1 : -1;
            most = Math.Max(most, running);
        }
        Assert.Equal(10, (await File.ReadAllLinesAsync(config.File("out/runs"))).Length);
        Assert.Equal(2, most);
    }
}
