using System.Diagnostics;
using Edge.Tests.Delivery;

namespace Edge.Tests.Support;

/// <summary>
/// Debian's MariaDB as a database of the test's own: a data directory made with mariadb-install-db (owned by the mysql
/// user, which the server runs as), a server on a free 127.0.0.1 port that lets anyone in (--skip-grant-tables), and
/// a database "mail"; stopped when the test is done.
/// </summary>
public sealed class MariaDbServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private MariaDbServer(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <param name="sql">Statements run in the database "mail" once the server is up.</param>
    public static async Task<MariaDbServer> StartAsync(string sql)
    {
        string server = Peer.Require("mariadbd", "mariadb-server");
        var directory = new TempDirectory();
        string data = directory.File("data");
        Directory.CreateDirectory(data);
        await Peer.RunAsync("chown", "coreutils", "-R", "mysql:mysql", directory.Path);
        (int exit, string output) = await Peer.RunAsync("mariadb-install-db", "mariadb-server", "--no-defaults", "--user=mysql",
            $"--datadir={data}", "--skip-test-db", "--auth-root-authentication-method=normal");
        Assert.True(exit == 0, output);
        int port = ListeningPort.Free();
        Process process = Peer.Start(server, ["--no-defaults", "--user=mysql", $"--datadir={data}", $"--socket={directory.File("mysqld.sock")}",
            $"--pid-file={directory.File("mysqld.pid")}", $"--port={port}", "--bind-address=127.0.0.1", "--skip-grant-tables",
            "--skip-log-bin", "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M"]);
        await ListeningPort.WaitAsync(port, () => process.HasExited, "mariadbd");
        var mariadb = new MariaDbServer(process, directory, port);
        await mariadb.RunAsync($"CREATE DATABASE mail; USE mail; {sql}");
        return mariadb;
    }

    private async Task RunAsync(string sql)
    {
        (int exit, string output) = await Peer.RunAsync("mariadb", "mariadb-client", "--no-defaults", "-h", "127.0.0.1", "-P", Port.ToString(),
            "-u", "root", "-e", sql);
        Assert.True(exit == 0, output);
    }

    public async ValueTask DisposeAsync()
    {
        await Peer.StopAsync(_process);
        _directory.Dispose();
    }
}
