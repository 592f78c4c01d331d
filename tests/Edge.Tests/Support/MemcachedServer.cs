using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Edge.Tests.Delivery;

namespace Edge.Tests.Support;

/// <summary>Debian's memcached on a free 127.0.0.1 port, stopped when the test is done; the test reads and writes it as a client.</summary>
public sealed class MemcachedServer : IAsyncDisposable
{
    private readonly Process _process;

    private MemcachedServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static async Task<MemcachedServer> StartAsync()
    {
        string program = Peer.Require("memcached", "memcached");
        int port = ListeningPort.Free();
        Process process = Peer.Start(program, ["-l", "127.0.0.1", "-p", port.ToString(), "-U", "0", "-u", "memcache", "-m", "16"]);
        await ListeningPort.WaitAsync(port, () => process.HasExited, "memcached");
        return new MemcachedServer(process, port);
    }

    /// <summary>memcached's reply to one command (with its data lines), as text.</summary>
    public async Task<string> CommandAsync(string command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"));
        var reply = new StringBuilder();
        var buffer = new byte[4096];
        while (!(reply.ToString() is var text && (text.EndsWith("END\r\n") || text.EndsWith("STORED\r\n") || text.EndsWith("ERROR\r\n"))))
        {
            int n = await stream.ReadAsync(buffer);
            if (n == 0)
            {
                break;
            }
            reply.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return reply.ToString();
    }

    public async ValueTask DisposeAsync() => await Peer.StopAsync(_process);
}
