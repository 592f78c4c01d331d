using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Edge.Cli;
using Edge.Tests.Delivery;
using Edge.Tests.Support;

namespace Edge.Tests.Load;

/// <summary>
/// `edge source` as a user runs it: the load is sent, in the command's own process, by the native edge-source when the
/// build has it beside edge, else by edge started again without the runtime's profile-guided recompiling (SourceCommand
/// says why). Alone, after the other tests: the native program is built for them (NativeSource), which keeps both cores
/// busy.
/// </summary>
[Collection(MachineWideCollection.Name)]
public class SourceCommandTests
{
    /// <summary>SIGTERM to the command ends the run with its report, as Ctrl-C does; nothing of the program it was is left.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_command_runs_the_load_in_its_own_process_and_SIGTERM_ends_the_run_with_its_report(bool native)
    {
        await using var sink = await SmtpSink.StartAsync();
        using var directory = new TempDirectory();
        string edgeDll = native ? await NativeSource.EdgeDllAsync() : EdgeProcess.EdgeDll;
        // Without a DOTNET_TieredPGO of the test's: with one, edge runs the load without starting again.
        using Process source = EdgeProcess.StartCommand(edgeDll, directory.Path, ["DOTNET_TieredPGO"],
            "source", "-s", "2", "--duration", "120", "--rate", "20", $"127.0.0.1:{sink.Port}");
        Task<string> report = source.StandardOutput.ReadToEndAsync();
        Task<string> errors = source.StandardError.ReadToEndAsync();
        int pid = source.Id;
        try
        {
            var clock = Stopwatch.StartNew();
            while (sink.DumpCount < 5 && !source.HasExited && clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(50);
            }
            if (source.HasExited)
            {
                Assert.Fail($"edge source ended before it was stopped: {await errors}");
            }
            if (native)
            {
                Assert.Equal(Path.Combine(Path.GetDirectoryName(edgeDll)!, SourceCommand.NativeProgram), new FileInfo($"/proc/{pid}/exe").LinkTarget);
            }
            else
            {
                Assert.Contains("DOTNET_TieredPGO=0", File.ReadAllText($"/proc/{pid}/environ").Split('\0'));
            }
            Assert.Empty(Children(pid));
            using (Process kill = Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await source.WaitForExitAsync(deadline.Token);
            Assert.True(source.ExitCode == 0, await errors);
        }
        finally
        {
            if (!source.HasExited)
            {
                source.Kill();
            }
        }
        Match counts = Regex.Match(await report, @"messages: (\d+) sent, (\d+) accepted");
        Assert.True(counts.Success, await report);
        Assert.InRange(int.Parse(counts.Groups[2].Value, CultureInfo.InvariantCulture), 5, 200);
        // The runtime's diagnostics socket and debugger pipes of the program the process was, which only its own end
        // would have removed (the one started again in its place could not have made its own).
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $"dotnet-diagnostic-{pid}-*"));
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $"clr-debug-pipe-{pid}-*"));
    }

    [Theory]
    [InlineData("--pipelining", 3000, false)]
    [InlineData("--bdat", 100_000, true)]
    public async Task What_the_native_program_sends_is_what_edge_sink_counts(string how, int size, bool tls) =>
        await SinkTests.CountsWhatWasSentAsync(how, size, tls, async args =>
        {
            (int exit, string output, string error) = await NativeSource.RunAsync(["source", .. args, "--json"]);
            Assert.True(exit == 0, error);
            return JsonDocument.Parse(output).RootElement;
        });

    [Fact]
    public async Task The_native_program_names_a_bad_option()
    {
        (int exit, string output, string error) = await NativeSource.RunAsync("source", "--wat", "127.0.0.1:25");

        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith("edge source: unexpected \"--wat\"\n", error);
    }

    /// <summary>The processes <paramref name="pid"/>'s threads have started (a thread that ends meanwhile has none).</summary>
    private static IEnumerable<string> Children(int pid) => Directory.GetDirectories($"/proc/{pid}/task").SelectMany(thread =>
    {
        try
        {
            return File.ReadAllText(Path.Combine(thread, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException)
        {
            return [];
        }
    });
}
