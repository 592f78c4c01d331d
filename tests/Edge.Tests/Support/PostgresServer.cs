using System.Diagnostics;
using Edge.Tests.Delivery;

namespace Edge.Tests.Support;

/// <summary>
/// Debian's PostgreSQL as a database of the test's own: a cluster made with initdb in a temporary directory (owned by
/// the postgres user, which the server runs as), listening on a free 127.0.0.1 port with trust authentication, and
/// stopped when the test is done.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private PostgresServer(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <param name="sql">Statements run in the database "mail" once the server is up.</param>
    public static async Task<PostgresServer> StartAsync(string sql)
    {
        string bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin")).FirstOrDefault(b => File.Exists(Path.Combine(b, "postgres"))) ?? ""
            : "";
        if (bin.Length == 0)
        {
            Assert.Fail("PostgreSQL is not installed: apt-get install postgresql (.ci/run does this)");
        }
        var directory = new TempDirectory();
        string data = directory.File("data");
        Directory.CreateDirectory(data);
        await Peer.RunAsync("chown", "coreutils", "-R", "postgres:postgres", directory.Path);
        (int exit, string output) = await AsPostgresAsync(Path.Combine(bin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync");
        Assert.True(exit == 0, output);
        int port = ListeningPort.Free();
        Process process = Peer.Start("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", Path.Combine(bin, "postgres"),
            "-D", data, "-p", port.ToString(), "-k", directory.Path, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]);
        await ListeningPort.WaitAsync(port, () => process.HasExited, "postgres");
        var server = new PostgresServer(process, directory, port);
        await server.PsqlAsync("postgres", "CREATE DATABASE mail");
        await server.PsqlAsync("mail", sql);
        return server;
    }

    /// <summary>Runs <paramref name="sql"/> in <paramref name="database"/>; a statement that fails fails the test.</summary>
    public async Task PsqlAsync(string database, string sql)
    {
        (int exit, string output) = await Peer.RunAsync("psql", "postgresql-client", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
            "-p", Port.ToString(), "-U", "postgres", "-d", database, "-c", sql);
        Assert.True(exit == 0, output);
    }

    private static Task<(int Exit, string Output)> AsPostgresAsync(string program, params string[] args) =>
        Peer.RunAsync("setpriv", "util-linux", ["--reuid=postgres", "--regid=postgres", "--init-groups", program, .. args]);

    public async ValueTask DisposeAsync()
    {
        await Peer.StopAsync(_process);
        _directory.Dispose();
    }
}
