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

    private SlapdServer(Process process, TempDirectory directory, int port, int tlsPort)
    {
        _process = process;
        _directory = directory;
        Port = port;
        TlsPort = tlsPort;
    }

    public int Port { get; }

    /// <summary>Where it speaks TLS from the start (ldaps:), when started with a certificate; StartTLS works on <see cref="Port"/> then too.</summary>
    public int TlsPort { get; }

    /// <param name="ldif">Entries below dc=edge,dc=test (the suffix's own entry is there already); PORT stands for the server's port.</param>
    /// <param name="certificate">PEM files of the server's certificate and key, for TLS.</param>
    /// <param name="clientAuthority">A CA's PEM file: with it, TLS clients must show a certificate it issued.</param>
    public static async Task<SlapdServer> StartAsync(string ldif, (string CertFile, string KeyFile)? certificate = null, string? clientAuthority = null)
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
            """ + "\n" + (certificate is { } tls ? $"TLSCertificateFile {tls.CertFile}\nTLSCertificateKeyFile {tls.KeyFile}\n" : "")
            + (clientAuthority is null ? "" : $"TLSCACertificateFile {clientAuthority}\nTLSVerifyClient demand\n"));
        int port = ListeningPort.Free();
        int tlsPort = certificate is null ? 0 : ListeningPort.Free();
        string urls = $"ldap://127.0.0.1:{port}/" + (certificate is null ? "" : $" ldaps://127.0.0.1:{tlsPort}/");
        Process process = Peer.Start(slapd, ["-d", "0", "-f", directory.File("slapd.conf"), "-h", urls]);
        await ListeningPort.WaitAsync(port, () => process.HasExited, "slapd");
        var server = new SlapdServer(process, directory, port, tlsPort);
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
