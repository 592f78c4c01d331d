using System.Diagnostics;
using Edge.Tests.Delivery;

namespace Edge.Tests.Support;

/// <summary>
/// Debian's haproxy as the load balancer in front of several Edge servers: TCP mode on a free 127.0.0.1 port, each
/// connection to the next server in turn (roundrobin), announced with the PROXY protocol (send-proxy).
/// </summary>
public sealed class Haproxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private Haproxy(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public static async Task<Haproxy> StartAsync(params int[] servers)
    {
        string program = Peer.Require("haproxy", "haproxy");
        var directory = new TempDirectory();
        int port = ListeningPort.Free();
        directory.Write("haproxy.cfg", $"""
            global
                maxconn 100
            defaults
                mode tcp
                timeout connect 5s
                timeout client 60s
                timeout server 60s
            frontend smtp
                bind 127.0.0.1:{port}
                default_backend edges
            backend edges
                balance roundrobin
            {string.Join("\n", servers.Select((server, i) => $"    server edge{i} 127.0.0.1:{server} send-proxy"))}

            """);
        Process process = Peer.Start(program, ["-f", directory.File("haproxy.cfg"), "-db"]);
        await ListeningPort.WaitAsync(port, () => process.HasExited, "haproxy");
        return new Haproxy(process, directory, port);
    }

    public async ValueTask DisposeAsync()
    {
        await Peer.StopAsync(_process);
        _directory.Dispose();
    }
}
