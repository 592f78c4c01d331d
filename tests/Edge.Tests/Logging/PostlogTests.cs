using Edge.Tests.Support;

namespace Edge.Tests.Logging;

/// <summary>edge postlog, as Postfix's postlog(1): a line in the mail log, through the running server or where it would write.</summary>
public class PostlogTests
{
    [Fact]
    public async Task A_running_server_writes_the_line_into_its_log()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Equal((0, "", ""), await EdgeProcess.RunAsync(config.Path, "postlog", "-c", config.Path, "-t", "backup/run", "-p", "warning", "disk", "nearly", "full"));
        await edge.WaitForLogAsync(@"edge/backup/run\[\d+\]: warning: disk nearly full$");
        Assert.Equal((0, "", ""), await EdgeProcess.RunAsync(config.Path, "postlog", "-c", config.Path, "-p", "error", "restore failed"));
        await edge.WaitForLogAsync(@"edge/postlog\[\d+\]: error: restore failed$");
    }

    [Fact]
    public async Task Without_a_server_the_line_goes_to_maillog_file_and_a_bad_priority_is_refused()
    {
        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"\nmaillog_file = {config.File("maillog")}\n");
        Assert.Equal(0, (await EdgeProcess.RunAsync(config.Path, "postlog", "-c", config.Path, "-t", "cron", "nightly run done")).Exit);
        Assert.Matches(@"^\w{3} [ \d]\d \d\d:\d\d:\d\d mx edge/cron\[\d+\]: nightly run done\n$", File.ReadAllText(config.File("maillog")));
        (int exit, _, string error) = await EdgeProcess.RunAsync(config.Path, "postlog", "-c", config.Path, "-p", "loud", "x");
        Assert.Equal(2, exit);
        Assert.StartsWith("edge postlog: usage: edge postlog", error);
    }
}
