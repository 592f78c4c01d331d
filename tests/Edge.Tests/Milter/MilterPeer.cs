using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Edge.Tests.Support;

namespace Edge.Tests.Milter;

/// <summary>
/// A real mail filter from Debian (opendkim, rspamd's milter proxy) running for a test on 127.0.0.1 and a free port,
/// with its configuration in a directory of its own; stopped with the test.
/// </summary>
public sealed class MilterPeer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log;

    private MilterPeer(Process process, StringBuilder log, TempDirectory directory, int port)
    {
        _process = process;
        _log = log;
        Directory = directory;
        Port = port;
    }

    public TempDirectory Directory { get; }

    public int Port { get; }

    public string Endpoint => $"inet:127.0.0.1:{Port}";

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

    /// <summary>
    /// opendkim signing for edge.test with a new 1024-bit key (selector "sel") for mail from 127.0.0.1, or, with
    /// <paramref name="verifyWith"/>, verifying only, the public key records read from that signer's TXT record
    /// (opendkim's TestPublicKeys: the libunbound build of Debian does not query a resolver on a loopback port).
    /// </summary>
    public static async Task<MilterPeer> OpenDkimAsync(MilterPeer? verifyWith = null)
    {
        string program = Peer.Require("opendkim", "opendkim");
        var directory = new TempDirectory();
        int port = FreePorts.Tcp();
        var config = new StringBuilder($"""
            Syslog no
            Background no
            Socket inet:{port}@127.0.0.1
            PidFile {directory.File("opendkim.pid")}
            RequireSafeKeys false
            AuthservID mx.edge.test
            Canonicalization relaxed/simple

            """);
        if (verifyWith is null)
        {
            var (exit, output) = await Peer.RunAsync("opendkim-genkey", "opendkim-tools", "-b", "1024", "-D", directory.Path, "-d", "edge.test", "-s", "sel");
            Assert.True(exit == 0, output);
            config.Append($"Mode sv\nDomain edge.test\nSelector sel\nKeyFile {directory.File("sel.private")}\nInternalHosts 127.0.0.1\n");
        }
        else
        {
            directory.Write("keys", $"sel._domainkey.edge.test {verifyWith.DkimRecord()}\n");
            config.Append($"Mode v\nInternalHosts 192.0.2.99\nTestPublicKeys {directory.File("keys")}\n");
        }
        directory.Write("opendkim.conf", config.ToString());
        return await StartAsync(program, ["-f", "-x", directory.File("opendkim.conf")], directory, port, TimeSpan.FromSeconds(20));
    }

    /// <summary>
    /// rspamd with its milter proxy (worker rspamd_proxy, milter = yes, scanning itself) on a free port, its own
    /// database and run directories, headers added to every message (milter_headers, local mail included), and DNS
    /// pointed at a closed loopback port so that nothing waits for the network.
    /// </summary>
    public static async Task<MilterPeer> RspamdAsync()
    {
        string program = Peer.Require("rspamd", "rspamd");
        var directory = new TempDirectory();
        int port = FreePorts.Tcp();
        int controller = FreePorts.Tcp();
        string local = directory.File("local.d");
        System.IO.Directory.CreateDirectory(local);
        foreach (string name in new[] { "db", "run", "log" })
        {
            System.IO.Directory.CreateDirectory(directory.File(name));
        }
        File.WriteAllText(Path.Combine(local, "worker-proxy.inc"),
            $"bind_socket = \"127.0.0.1:{port}\";\nmilter = yes;\ntimeout = 30s;\nupstream \"local\" {{ default = yes; self_scan = yes; }}\n");
        File.WriteAllText(Path.Combine(local, "worker-normal.inc"), "enabled = false;\n");
        File.WriteAllText(Path.Combine(local, "worker-controller.inc"), $"bind_socket = \"127.0.0.1:{controller}\";\n");
        File.WriteAllText(Path.Combine(local, "logging.inc"), "type = \"console\";\nlevel = \"error\";\n");
        File.WriteAllText(Path.Combine(local, "options.inc"), $"dns {{ nameserver = [\"127.0.0.1:{FreePorts.Tcp()}\"]; timeout = 1s; retransmits = 1; }}\n");
        File.WriteAllText(Path.Combine(local, "milter_headers.conf"),
            "use = [\"x-spamd-result\", \"x-rspamd-server\"];\nskip_local = false;\nskip_authenticated = false;\n");
        // rspamd drops root for its own user, which must reach the directories.
        foreach (string path in System.IO.Directory.GetFileSystemEntries(directory.Path, "*", SearchOption.AllDirectories).Append(directory.Path))
        {
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, (UnixFileMode)0x1FF);
            }
        }
        return await StartAsync(program,
            ["-f", "-u", "_rspamd", "-g", "_rspamd", "-c", "/etc/rspamd/rspamd.conf", $"--var=LOCAL_CONFDIR={directory.Path}",
             $"--var=DBDIR={directory.File("db")}", $"--var=RUNDIR={directory.File("run")}", $"--var=LOGDIR={directory.File("log")}"],
            directory, port, TimeSpan.FromSeconds(90));
    }

    /// <summary>The signer's DNS record ("v=DKIM1; h=sha256; k=rsa; p=…"), from the .txt file opendkim-genkey wrote.</summary>
    public string DkimRecord() =>
        string.Concat(System.Text.RegularExpressions.Regex.Matches(File.ReadAllText(Directory.File("sel.txt")), "\"([^\"]*)\"")
            .Select(m => m.Groups[1].Value));

    private static async Task<MilterPeer> StartAsync(string program, string[] arguments, TempDirectory directory, int port, TimeSpan patience)
    {
        var log = new StringBuilder();
        Process process = Peer.Start(program, arguments, line =>
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        });
        var peer = new MilterPeer(process, log, directory, port);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < patience && !process.HasExited)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return peer;
            }
            catch (SocketException)
            {
                await Task.Delay(200);
            }
        }
        string output = peer.Log;
        await peer.DisposeAsync();
        Assert.Fail($"{Path.GetFileName(program)} did not listen on 127.0.0.1:{port}:\n{output}");
        return null!;
    }

    public async ValueTask DisposeAsync()
    {
        await Peer.StopAsync(_process);
        Directory.Dispose();
    }
}
