using System.Diagnostics;
using Edge.Tests.Delivery;

namespace Edge.Tests.Support;

/// <summary>Debian's redis-server on a free 127.0.0.1 port, keeping nothing on disk; stopped when the test is done.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private RedisServer(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>What edge_policy_store names it.</summary>
    public string Store => $"redis:127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        string program = Peer.Require("redis-server", "redis-server");
        var directory = new TempDirectory();
        int port = ListeningPort.Free();
        Process process = Peer.Start(program, ["--port", port.ToString(), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", directory.Path, "--daemonize", "no"]);
        await ListeningPort.WaitAsync(port, () => process.HasExited, "redis-server");
        return new RedisServer(process, directory, port);
    }

    public async ValueTask DisposeAsync()
    {
        await Peer.StopAsync(_process);
        _directory.Dispose();
    }
}
