using System.Diagnostics;
using Edge.Tests.Delivery;

namespace Edge.Tests.Support;

/// <summary>
/// Debian's postgrey greylisting policy server on a free 127.0.0.1 port (or a Unix socket), with its database
/// in a directory of its own and the test's options (--delay …). Stopped when the test is done.
/// </summary>
public sealed class Postgrey : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private Postgrey(Process process, TempDirectory directory, string address)
    {
        _process = process;
        _directory = directory;
        Address = address;
    }

    /// <summary>What check_policy_service names it: inet:127.0.0.1:port or unix:/path.</summary>
    public string Address { get; }

    public static async Task<Postgrey> StartAsync(bool unixSocket = false, params string[] options)
    {
        string program = Peer.Require("postgrey", "postgrey");
        var directory = new TempDirectory();
        int port = ListeningPort.Free();
        string socket = directory.File("postgrey.socket");
        // Root is its own user here: the database directory is the test's.
        Process process = Peer.Start(program, [unixSocket ? $"--unix={socket}" : $"--inet=127.0.0.1:{port}",
            $"--dbdir={directory.Path}", "--user=root", "--group=root", .. options]);
        if (unixSocket)
        {
            for (int i = 0; i < 200 && !File.Exists(socket) && !process.HasExited; i++)
            {
                await Task.Delay(50);
            }
            Assert.True(File.Exists(socket), "postgrey did not create its socket");
            return new Postgrey(process, directory, $"unix:{socket}");
        }
        await ListeningPort.WaitAsync(port, () => process.HasExited, "postgrey");
        return new Postgrey(process, directory, $"inet:127.0.0.1:{port}");
    }

    public async ValueTask DisposeAsync()
    {
        await Peer.StopAsync(_process);
        _directory.Dispose();
    }
}
