using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Edge.Dns;
using Edge.Tests.Support;

namespace Edge.Tests.Dns;

/// <summary>
/// A real dnsmasq (Debian package dnsmasq-base) answering for the zone "test" on 127.0.0.1 and a free high
/// port (or an address and port of the test's choice), over UDP and TCP, from the records given on its command
/// line; nothing is forwarded anywhere.
/// A missing dnsmasq fails the test with the package to install.
/// </summary>
public sealed class Dnsmasq : IDisposable
{
    /// <summary>The TTL of every record it serves (dnsmasq's local-ttl is 0 by default, which nobody caches).</summary>
    public const int Ttl = 300;

    private readonly Process _process;
    private readonly StringBuilder _log;

    private Dnsmasq(Process process, StringBuilder log, IPEndPoint endPoint)
    {
        _process = process;
        _log = log;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts dnsmasq with the records as options ("--mx-host=…", "--txt-record=…") and waits until it answers.</summary>
    /// <param name="at">Where it listens instead (port 53 of a loopback address, for a resolv.conf, which names no port).</param>
    /// <param name="ttl">The TTL of its records instead of <see cref="Ttl"/>.</param>
    public static async Task<Dnsmasq> StartAsync(IEnumerable<string> records, IPEndPoint? at = null, int ttl = Ttl)
    {
        string program = Peer.Require("dnsmasq", "dnsmasq-base");
        string[] recordArgs = records.ToArray();
        string failures = "";
        // The free port is found before dnsmasq binds it, so another process may take it in between: retry.
        for (int round = 0; round < 5; round++)
        {
            int port = at?.Port ?? FreePort();
            IPAddress address = at?.Address ?? IPAddress.Loopback;
            var log = new StringBuilder();
            Process process = Peer.Start(program,
                [
                    "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null", "--pid-file=",
                    "--log-facility=-", $"--listen-address={address}", "--bind-interfaces", $"--port={port}",
                    "--local=/test/", $"--local-ttl={ttl}", .. recordArgs,
                ],
                line =>
                {
                    lock (log)
                    {
                        log.AppendLine(line);
                    }
                });
            var server = new Dnsmasq(process, log, new IPEndPoint(address, port));
            if (await server.WaitUntilAnsweringAsync())
            {
                return server;
            }
            failures += server.Log;
            server.Dispose();
        }
        Assert.Fail($"dnsmasq did not start:\n{failures}");
        return null!;
    }

    /// <summary>Kills dnsmasq; the port then answers ICMP port unreachable.</summary>
    public void Stop()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
            _process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    private async Task<bool> WaitUntilAnsweringAsync()
    {
        using var probe = new DnsResolver([EndPoint], TimeSpan.FromMilliseconds(200), 1);
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (_process.HasExited)
            {
                return false;
            }
            DnsAnswer<IPAddress> answer = await probe.QueryAddressesAsync("probe.test", AddressFamily.InterNetwork);
            if (answer.Status is DnsStatus.NxDomain or DnsStatus.NoData or DnsStatus.Ok)
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }

    /// <summary>A port free for both UDP and TCP on 127.0.0.1 right now.</summary>
    private static int FreePort()
    {
        while (true)
        {
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            int port = ((IPEndPoint)tcp.LocalEndPoint!).Port;
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
                // Taken for UDP: try another.
            }
        }
    }
}
