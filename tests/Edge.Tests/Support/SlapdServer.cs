using System.Diagnostics;
using Edge.Tests.Delivery;

namespace Edge.Tests.Support;

/// <summary>
/// Debian's OpenLDAP server with a directory of the test's own: suffix dc=edge,dc=test, the mail schemas (cosine,
/// inetorgperson, misc, dyngroup), an administrator cn=admin,dc=edge,dc=test with password "secret", the test's LDIF loaded
/// with ldapadd, on a free 127.0.0.1 port; stopped when the test is done.
/// </summary>
public sealed class SlapdServer : IAsyncDisposable
{
    public const string AdminDn = "cn=admin,dc=edge,dc=test";
    public const string AdminPassword = "secret";

    private readonly Process _process;
    private readonly TempDirectory _directory;

    private SlapdServer(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <param name="ldif">Entries below dc=edge,dc=test (the suffix's own entry is there already); PORT stands for the server's port.</param>
    public static async Task<SlapdServer> StartAsync(string ldif)
    {
        string slapd = Peer.Require("slapd", "slapd");
        var directory = new TempDirectory();
        Directory.CreateDirectory(directory.File("db"));
        directory.Write("slapd.conf", $"""
            include /etc/ldap/schema/core.schema
            include /etc/ldap/schema/cosine.schema
            include /etc/ldap/schema/nis.schema
            include /etc/ldap/schema/inetorgperson.schema
            include /etc/ldap/schema/misc.schema
            include /etc/ldap/schema/dyngroup.schema
            modulepath /usr/lib/ldap
            moduleload back_mdb
            pidfile {directory.File("slapd.pid")}
            database mdb
            maxsize 16777216
            suffix "dc=edge,dc=test"
            rootdn "{AdminDn}"
            rootpw {AdminPassword}
            directory {directory.File("db")}
            """ + "\n");
        int port = ListeningPort.Free();
        Process process = Peer.Start(slapd, ["-d", "0", "-f", directory.File("slapd.conf"), "-h", $"ldap://127.0.0.1:{port}/"]);
        await ListeningPort.WaitAsync(port, () => process.HasExited, "slapd");
        var server = new SlapdServer(process, directory, port);
        directory.Write("data.ldif", """
            dn: dc=edge,dc=test
            objectClass: dcObject
            objectClass: organization
            dc: edge
            o: Edge test

            """ + "\n\n" + ldif.Replace("PORT", port.ToString()));
        (int exit, string output) = await Peer.RunAsync("ldapadd", "ldap-utils", "-x", "-H", $"ldap://127.0.0.1:{port}", "-D", AdminDn,
            "-w", AdminPassword, "-f", directory.File("data.ldif"));
        Assert.True(exit == 0, output);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await Peer.StopAsync(_process);
        _directory.Dispose();
    }
}
