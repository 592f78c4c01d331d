using System.Globalization;
using System.Text;
using Edge.Mail;
using Edge.Unix;
using Microsoft.Win32.SafeHandles;

namespace Edge.Cleanup;

/// <summary>
/// A message edge sendmail left in queue_directory/maildrop for the pickup service: a first line naming the format,
/// then "S sender", "F full name" (sendmail -F), "E envid" (-V, in xtext), "T full" or "T hdrs" (-R), "N notify"
/// (-N, for every recipient), "V" (-bv: verify the recipients and report, deliver nothing) and "R recipient" lines, an
/// empty line, and the message with CRLF line ends. sendmail writes it under a temporary name and renames it, so that
/// pickup never reads half of one. Who submitted it is the file's owner (<see cref="Uid"/>), not anything it says: the
/// maildrop directory takes files from every local user (mode 1733, as Postfix's world-writable maildrop was before
/// postdrop), so a file is only read when its name names a regular file with one link, opened without following a
/// link or waiting on a FIFO.
/// </summary>
internal sealed record MaildropFile(string Sender, string? FullName, IReadOnlyList<string> Recipients, byte[] Content)
{
    private const string Magic = "EDGE-MAILDROP 1";

    public uint? Uid { get; init; }

    public string EnvId { get; init; } = "";

    public DsnReturn Ret { get; init; }

    public DsnNotify Notify { get; init; }

    /// <summary>sendmail -bv: a request for a report on the recipients, not a message to deliver.</summary>
    public bool Verify { get; init; }

    /// <summary>rwx-wx-wt: every user may drop a file in; nobody else may list the directory or remove another's file.</summary>
    private const UnixFileMode DirectoryMode = (UnixFileMode)0b1_111_011_011;

    /// <summary>rw-r--r--: Edge reads it when it runs as a user of its own; others cannot find it, as they cannot list the directory.</summary>
    private const UnixFileMode FileMode = (UnixFileMode)0b110_100_100;

    public static string DirectoryOf(string queueDirectory) => Path.Combine(queueDirectory, "maildrop");

    /// <summary>Makes the maildrop directory when it is missing, open for every local user to drop files in.</summary>
    public static string Create(string queueDirectory)
    {
        string directory = DirectoryOf(queueDirectory);
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory);
            if (!OperatingSystem.IsWindows())
            {
                // CreateDirectory's mode is cut by the umask; the sticky and write bits must be exactly these.
                File.SetUnixFileMode(directory, DirectoryMode);
            }
        }
        return directory;
    }

    /// <summary>Writes the file into the maildrop directory; returns its name.</summary>
    public string Write(string queueDirectory)
    {
        string directory = Create(queueDirectory);
        string name = $"{DateTime.UtcNow:yyyyMMddHHmmssfff}.{Environment.ProcessId}.{Guid.NewGuid():N}";
        string temporary = Path.Combine(directory, "." + name);
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }
        using (var file = new FileStream(temporary, options))
        {
            var head = new StringBuilder(Magic).Append('\n').Append("S ").Append(Sender).Append('\n');
            if (FullName is not null)
            {
                head.Append("F ").Append(FullName).Append('\n');
            }
            head.Append(EnvId.Length > 0 ? $"E {EnvId}\n" : "")
                .Append(Ret != DsnReturn.Unspecified ? $"T {(Ret == DsnReturn.Full ? "full" : "hdrs")}\n" : "")
                .Append(Notify != DsnNotify.Unspecified ? $"N {(int)Notify}\n" : "")
                .Append(Verify ? "V\n" : "");
            foreach (string recipient in Recipients)
            {
                head.Append("R ").Append(recipient).Append('\n');
            }
            file.Write(Encoding.UTF8.GetBytes(head.Append('\n').ToString()));
            file.Write(Content);
            // The file is what sendmail promised: on disk before its name appears.
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, Path.Combine(directory, name));
        return name;
    }

    /// <summary>
    /// Reads a file; throws InvalidDataException, naming what is wrong, for one that is not a maildrop file, or is larger
    /// than <paramref name="sizeLimit"/> (message_size_limit; 0 for none) and the envelope lines that go with it.
    /// </summary>
    public static MaildropFile Read(string path, long sizeLimit)
    {
        (byte[] bytes, uint? owner) = OperatingSystem.IsWindows() ? (File.ReadAllBytes(path), null) : ReadOwned(path, sizeLimit);
        int end = bytes.AsSpan().IndexOf("\n\n"u8);
        if (end < 0)
        {
            throw new InvalidDataException("no end of the envelope");
        }
        string[] lines = Encoding.UTF8.GetString(bytes, 0, end).Split('\n');
        if (lines[0] != Magic)
        {
            throw new InvalidDataException($"not a maildrop file (\"{lines[0]}\")");
        }
        string? sender = null, fullName = null, envId = "";
        var (ret, notify, verify) = (DsnReturn.Unspecified, DsnNotify.Unspecified, false);
        var recipients = new List<string>();
        foreach (string line in lines.Skip(1))
        {
            switch (line == "V" ? "V " : line.Length < 2 ? "" : line[..2])
            {
                case "E ":
                    envId = line[2..];
                    break;
                case "T " when line[2..] is "full" or "hdrs":
                    ret = line[2..] == "full" ? DsnReturn.Full : DsnReturn.Headers;
                    break;
                case "N " when byte.TryParse(line[2..], NumberStyles.None, CultureInfo.InvariantCulture, out byte flags) && flags < 16:
                    notify = (DsnNotify)flags;
                    break;
                case "V ":
                    verify = true;
                    break;
                case "S ":
                    sender = line[2..];
                    break;
                case "F ":
                    fullName = line[2..];
                    break;
                case "R ":
                    recipients.Add(line[2..]);
                    break;
                default:
                    throw new InvalidDataException($"bad envelope line \"{line}\"");
            }
        }
        if (recipients.Count == 0)
        {
            throw new InvalidDataException("no recipients");
        }
        return new MaildropFile(sender ?? throw new InvalidDataException("no sender"), fullName, recipients, bytes[(end + 2)..])
        {
            Uid = owner,
            EnvId = envId,
            Ret = ret,
            Notify = notify,
            Verify = verify,
        };
    }

    /// <summary>The content of the regular file <paramref name="path"/> names, and its owner.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    private static (byte[] Content, uint? Owner) ReadOwned(string path, long sizeLimit)
    {
        // Room for the envelope lines besides the message: a recipient list as long as the message would be absurd.
        const long Envelope = 1 << 20;
        if (!FileStatus.OfName(path).IsRegular)
        {
            throw new InvalidDataException("not a regular file");
        }
        using SafeFileHandle handle = FileStatus.OpenToRead(path, noFollow: true);
        FileStatus opened = FileStatus.Of(handle);
        FileStatus named = FileStatus.OfName(path);
        if (!opened.IsRegular || (opened.Device, opened.Inode) != (named.Device, named.Inode))
        {
            throw new InvalidDataException("replaced while it was opened");
        }
        if (opened.Links != 1)
        {
            throw new InvalidDataException($"a file with {opened.Links} links");
        }
        if (sizeLimit > 0 && opened.Size > sizeLimit + Envelope)
        {
            throw new InvalidDataException($"{opened.Size} bytes, larger than message_size_limit ({sizeLimit})");
        }
        byte[] content = new byte[opened.Size];
        using var stream = new FileStream(handle, FileAccess.Read);
        stream.ReadExactly(content);
        return (content, opened.Uid);
    }
}
