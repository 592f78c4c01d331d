using System.Diagnostics;
using System.Runtime.Versioning;

namespace Edge.Tests.Support;

/// <summary>
/// A throwaway Unix account for tests of delivery with a user's rights: made with useradd (its own group, shell
/// /bin/sh, a home directory of its own under the test's temporary folder) and removed with userdel when the test is
/// done. It needs root, as Edge needs root to act as a user; CI runs the tests as root.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class TestAccount : IDisposable
{
    private TestAccount(string name, string home, uint uid, uint gid)
    {
        Name = name;
        Home = home;
        Uid = uid;
        Gid = gid;
    }

    public string Name { get; }

    public string Home { get; }

    public uint Uid { get; }

    public uint Gid { get; }

    public static async Task<TestAccount> CreateAsync(TempDirectory directory)
    {
        Assert.True(Environment.IsPrivilegedProcess, "this test makes a Unix account and has Edge act as it, which needs root (CI runs ./test.sh as root)");
        string name = "edget" + Guid.NewGuid().ToString("N")[..8];
        string home = directory.File(name);
        Directory.CreateDirectory(home);
        // useradd takes a lock on the password files; tests running at once may find it held for a moment.
        for (int attempt = 0; ; attempt++)
        {
            (int exit, string output) = await RunAsync("useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", "--user-group", name);
            if (exit == 0)
            {
                break;
            }
            Assert.True(attempt < 20, $"useradd {name}: {output}");
            await Task.Delay(100);
        }
        Assert.Equal(0, (await RunAsync("chown", $"{name}:{name}", home)).Exit);
        (_, string uid) = await RunAsync("id", "-u", name);
        (_, string gid) = await RunAsync("id", "-g", name);
        return new TestAccount(name, home, uint.Parse(uid.Trim()), uint.Parse(gid.Trim()));
    }

    /// <summary>Writes a file in the home directory, owned by the account with the mode given.</summary>
    public void Write(string name, string text, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead)
    {
        string path = Path.Combine(Home, name);
        File.WriteAllText(path, text);
        File.SetUnixFileMode(path, mode);
        Chown(path);
    }

    /// <summary>Gives a file or folder to the account.</summary>
    public void Chown(string path)
    {
        using var process = Process.Start("chown", [$"{Name}:{Name}", path]);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    public void Dispose()
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            using var process = Process.Start(new ProcessStartInfo("userdel", [Name]) { RedirectStandardError = true })!;
            process.WaitForExit();
            if (process.ExitCode == 0)
            {
                return;
            }
            Thread.Sleep(100);
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
