using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Edge.Tests.Support;
using Xunit.Abstractions;

namespace Edge.Tests.Integration;

/// <summary>
/// One listener holds 10,000 idle connections (the real `edge` process, so its memory can be read from
/// /proc), and a new client still gets its banner at once.
/// </summary>
public class TenThousandConnectionsTests(ITestOutputHelper output)
{
    private const int Connections = 10_000;

    [Fact]
    public async Task Ten_thousand_idle_connections_and_a_prompt_banner()
    {
        long fileLimit = OpenFileLimit();
        Assert.True(fileLimit > Connections + 500,
            $"the open-file limit is {fileLimit}; holding {Connections} connections needs more (ulimit -n)");

        using var config = new TempDirectory();
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + "\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        await using (var warm = await SmtpConnection.OpenAsync(edge.Port))
        {
            await warm.CommandAsync("QUIT");
        }
        await Task.Delay(500);
        long before = ResidentBytes(edge.Pid);

        var sockets = new List<Socket>(Connections);
        try
        {
            var endpoint = new IPEndPoint(IPAddress.Loopback, edge.Port);
            for (int batch = 0; batch < Connections; batch += 500)
            {
                Socket[] opened = await Task.WhenAll(Enumerable.Range(0, 500).Select(async _ =>
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    await socket.ConnectAsync(endpoint);
                    await ReadGreetingAsync(socket);
                    return socket;
                }));
                sockets.AddRange(opened);
            }
            Assert.Equal(Connections, sockets.Count);
            await Task.Delay(1000);
            long after = ResidentBytes(edge.Pid);
            output.WriteLine($"edge RSS: {before / 1024} KiB before, {after / 1024} KiB with {Connections} idle connections: " +
                             $"{(after - before) / Connections} bytes per connection");

            var clock = Stopwatch.StartNew();
            await using var late = await SmtpConnection.OpenAsync(edge.Port);
            Assert.Equal("250 2.0.0 Ok", await late.CommandAsync("NOOP"));
            output.WriteLine($"banner and NOOP for connection {Connections + 1}: {clock.ElapsedMilliseconds} ms");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the new session took {clock.Elapsed}");
        }
        finally
        {
            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    private static async Task ReadGreetingAsync(Socket socket)
    {
        byte[] buffer = new byte[128];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int total = 0;
        while (total == 0 || buffer[total - 1] != (byte)'\n')
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, deadline.Token);
            Assert.True(n > 0, "the server closed an idle connection");
            total += n;
        }
        Assert.StartsWith("220 ", System.Text.Encoding.ASCII.GetString(buffer, 0, total));
    }

    private static long OpenFileLimit()
    {
        string line = File.ReadLines("/proc/self/limits").First(l => l.StartsWith("Max open files"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]);
    }

    private static long ResidentBytes(int pid)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:"));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
