using System.Diagnostics;

namespace Edge.Tests.Support;

/// <summary>
/// A small file system of its own for a test that fills its disk: a tmpfs of the given size, mounted on a fresh
/// directory (root can, as .ci/run is) and unmounted when the test is done.
/// </summary>
public sealed class Tmpfs : IDisposable
{
    private readonly TempDirectory _directory;

    private Tmpfs(TempDirectory directory) => _directory = directory;

    public string Path => _directory.Path;

    public string File(string name) => _directory.File(name);

    public static Tmpfs Mount(int megabytes)
    {
        var directory = new TempDirectory();
        (int exit, string output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", directory.Path);
        if (exit != 0)
        {
            directory.Dispose();
            Assert.Fail($"cannot mount a tmpfs for the full-disk test ({output.Trim()}): it needs root, as .ci/run has");
        }
        return new Tmpfs(directory);
    }

    /// <summary>Fills what is left of the file system with one file, until the kernel says it is full; returns the file.</summary>
    public string Fill(string name = "filler")
    {
        string path = File(name);
        byte[] block = new byte[64 * 1024];
        Array.Fill(block, (byte)'f');
        using var filler = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.None, 0);
        try
        {
            while (true)
            {
                filler.Write(block);
            }
        }
        catch (IOException)
        {
            // ENOSPC: full.
        }
        return path;
    }

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    private static (int Exit, string Output) Run(string program, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(program, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    public void Dispose()
    {
        Run("umount", "-l", Path);
        _directory.Dispose();
    }
}
