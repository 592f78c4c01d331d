using System.Diagnostics;
using Edge.Tests.Support;

namespace Edge.Tests.Delivery;

/// <summary>
/// Dovecot's LMTP server (Debian dovecot-lmtpd) in the foreground with a configuration of its own: TCP on a
/// free 127.0.0.1 port and a Unix socket, mailboxes alice and carol (carol with a 1-byte quota, so that the
/// reply to the end of data differs per recipient), Maildirs under the test's directory. Its auth server's client
/// socket (<see cref="AuthSocket"/>) offers PLAIN and LOGIN for SMTP AUTH; alice's password is "x".
/// Stopped by its process ID when the test is done.
/// </summary>
public sealed class Dovecot : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private Dovecot(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string UnixSocket => _directory.File("run/lmtp");

    /// <summary>The auth server's client socket, as smtpd_sasl_path names it.</summary>
    public string AuthSocket => _directory.File("run/auth-client");

    public static async Task<Dovecot> StartAsync()
    {
        string program = Peer.Require("dovecot", "dovecot-lmtpd");
        Assert.True(File.Exists("/usr/lib/dovecot/lmtp"), "dovecot's LMTP server is not installed: apt-get install dovecot-lmtpd");
        var directory = new TempDirectory();
        string mail = directory.File("mail");
        Directory.CreateDirectory(mail);
        if (!OperatingSystem.IsWindows())
        {
            // The lmtp process writes as the dovecot user.
            File.SetUnixFileMode(mail, (UnixFileMode)0b111_111_111);
        }
        string ids = UserIds("dovecot");
        directory.Write("users", $"""
            alice:{"{PLAIN}"}x:{ids}::{mail}/alice
            carol:{"{PLAIN}"}x:{ids}::{mail}/carol::userdb_quota_rule=*:storage=1B

            """);
        int port = ListeningPort.Free();
        directory.Write("dovecot.conf", $$"""
            protocols = lmtp
            base_dir = {{directory.File("run")}}
            state_dir = {{directory.File("state")}}
            log_path = {{directory.File("dovecot.log")}}
            ssl = no
            listen = 127.0.0.1
            first_valid_uid = 1
            mail_location = maildir:~/Maildir
            # As in a Postfix set-up: "alice@domain" is the user alice.
            auth_username_format = %Ln
            auth_mechanisms = plain login
            # The SMTP server decides where plaintext mechanisms may be used (smtpd_tls_auth_only).
            disable_plaintext_auth = no
            # Failures are answered at once: the tests try wrong passwords.
            auth_failure_delay = 0
            mail_plugins = quota
            plugin {
              quota = maildir:User quota
            }
            passdb {
              driver = passwd-file
              args = {{directory.File("users")}}
            }
            userdb {
              driver = passwd-file
              args = {{directory.File("users")}}
            }
            service auth {
              unix_listener auth-client {
                mode = 0666
              }
            }
            service lmtp {
              inet_listener lmtp {
                address = 127.0.0.1
                port = {{port}}
              }
              unix_listener lmtp {
                mode = 0666
              }
            }

            """);
        Process process = Peer.Start(program, ["-F", "-c", directory.File("dovecot.conf")]);
        var dovecot = new Dovecot(process, directory, port);
        await ListeningPort.WaitAsync(port, () => process.HasExited, "dovecot");
        for (int i = 0; i < 100 && !(File.Exists(dovecot.UnixSocket) && File.Exists(dovecot.AuthSocket)); i++)
        {
            await Task.Delay(50);
        }
        return dovecot;
    }

    /// <summary>The messages delivered to a mailbox, as Dovecot stored them.</summary>
    public IReadOnlyList<string> Mailbox(string user)
    {
        string maildir = _directory.File($"mail/{user}/Maildir");
        return Directory.Exists(maildir)
            ? [.. new[] { "new", "cur" }.Select(folder => Path.Combine(maildir, folder)).Where(Directory.Exists)
                .SelectMany(Directory.GetFiles).Select(File.ReadAllText)]
            : [];
    }

    private static string UserIds(string user)
    {
        string[] fields = File.ReadLines("/etc/passwd").Select(line => line.Split(':')).First(f => f[0] == user);
        return $"{fields[2]}:{fields[3]}";
    }

    public async ValueTask DisposeAsync()
    {
        // The master and the lmtp/auth processes it started.
        await Peer.StopAsync(_process);
        _directory.Dispose();
    }
}
