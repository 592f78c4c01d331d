using System.Net;
using Edge.Tests.Delivery;

namespace Edge.Tests.Support;

/// <summary>
/// Debian's Postfix (3.7) as a whole mail system of its own: a configuration directory with the test's main.cf lines,
/// its own queue and data directories, smtpd on a free 127.0.0.1 port, started with postfix(1) and stopped when the
/// test is done. Every daemon runs outside a chroot, so tables are read where the test wrote them. No queue manager
/// runs unless the test adds one: what smtpd accepts stays in the incoming queue, as cleanup wrote it, for
/// <see cref="PostcatAsync"/>.
/// </summary>
public sealed class PostfixServer : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private PostfixServer(TempDirectory directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>
    /// What a test gives both Postfix and Edge so that their replies compare: the test base's names (as
    /// EdgeInstance.BaseMainCf), a banner without the product name, no error sleep, and clients outside mynetworks.
    /// </summary>
    public const string ComparableMainCf = """
        myhostname = mx.edge.test
        mydestination = localhost, edge.test
        local_recipient_maps =
        smtpd_banner = $myhostname ESMTP
        smtpd_error_sleep_time = 0
        mynetworks = 192.0.2.0/24
        """;

    /// <summary>What Postfix logged (maillog_file), for a test that failed.</summary>
    public string Log => File.Exists(_directory.File("maillog")) ? File.ReadAllText(_directory.File("maillog")) : "";

    /// <param name="mainCf">main.cf lines after the instance's own (queue and data directories, mail owner, logging).</param>
    /// <param name="masterCf">master.cf lines after the instance's own (a qmgr and delivery agents, for a test that delivers).</param>
    /// <param name="nameserver">
    /// The DNS server Postfix asks instead of the machine's: its daemons run in a mount namespace of their own, where a
    /// resolv.conf naming this server is mounted over /etc/resolv.conf.
    /// </param>
    public static async Task<PostfixServer> StartAsync(string mainCf, string masterCf = "", IPAddress? nameserver = null)
    {
        string postfix = Peer.Require("postfix", "postfix");
        var directory = new TempDirectory();
        int port = ListeningPort.Free();
        Directory.CreateDirectory(directory.File("spool"));
        Directory.CreateDirectory(directory.File("data"));
        directory.Write("main.cf", $"""
            compatibility_level = 3.6
            inet_interfaces = 127.0.0.1
            inet_protocols = ipv4
            queue_directory = {directory.File("spool")}
            data_directory = {directory.File("data")}
            mail_owner = postfix
            setgid_group = postdrop
            maillog_file = {directory.File("maillog")}
            maillog_file_prefixes = {directory.Path}
            {mainCf}
            """ + "\n");
        directory.Write("master.cf", $"""
            127.0.0.1:{port} inet n - n - - smtpd
            pickup    unix n - n 60 1 pickup
            cleanup   unix n - n - 0 cleanup
            rewrite   unix - - n - - trivial-rewrite
            bounce    unix - - n - 0 bounce
            defer     unix - - n - 0 bounce
            trace     unix - - n - 0 bounce
            verify    unix - - n - 1 verify
            flush     unix n - n 1000? 0 flush
            proxymap  unix - - n - - proxymap
            showq     unix n - n - - showq
            error     unix - - n - - error
            retry     unix - - n - - error
            discard   unix - - n - - discard
            anvil     unix - - n - 1 anvil
            scache    unix - - n - 1 scache
            postlog   unix-dgram n - n - 1 postlogd
            {masterCf}
            """ + "\n");
        var server = new PostfixServer(directory, port);
        await Peer.RunAsync(postfix, "postfix", "-c", directory.Path, "set-permissions");
        (int exit, string output) = nameserver is null
            ? await Peer.RunAsync(postfix, "postfix", "-c", directory.Path, "start")
            : await StartWithNameserverAsync(postfix, directory, nameserver);
        if (exit != 0)
        {
            await server.DisposeAsync();
            Assert.Fail($"postfix did not start ({exit}): {output}\n{server.Log}");
        }
        await ListeningPort.WaitAsync(port, () => false, "postfix");
        return server;
    }

    private static Task<(int Exit, string Output)> StartWithNameserverAsync(string postfix, TempDirectory directory, IPAddress nameserver)
    {
        directory.Write("resolv.conf", $"nameserver {nameserver}\n");
        return Peer.RunAsync("unshare", "util-linux", "--mount", "--propagation", "private", "/bin/sh", "-c",
            "mount --bind \"$0\" /etc/resolv.conf && exec \"$1\" -c \"$2\" start", directory.File("resolv.conf"), postfix, directory.Path);
    }

    public Task<SmtpConnection> ConnectAsync() => SmtpConnection.OpenAsync(Port);

    /// <summary>postcat -e -h: the envelope records and the headers of queued message <paramref name="id"/>.</summary>
    public async Task<string> PostcatAsync(string id)
    {
        (int exit, string output) = await Peer.RunAsync("postcat", "postcat", "-c", _directory.Path, "-e", "-h", "-q", id);
        Assert.True(exit == 0, $"postcat -q {id}: {output}");
        return output;
    }

    public async ValueTask DisposeAsync()
    {
        await Peer.RunAsync("postfix", "postfix", "-c", _directory.Path, "stop");
        _directory.Dispose();
    }
}
