using System.Globalization;
using System.Text;
using Edge.Mail;

namespace Edge.Cleanup;

/// <summary>
/// A message edge sendmail left in queue_directory/maildrop for the pickup service: a first line naming the format,
/// then "S sender", "F full name" (sendmail -F), "U uid" (who ran sendmail), "E envid" (-V, in xtext), "T full" or
/// "T hdrs" (-R), "N notify" (-N, for every recipient), "V" (-bv: verify the recipients and report, deliver
/// nothing) and "R recipient" lines, an empty line, and the message with CRLF line ends. sendmail writes it under a
/// temporary name and renames it, so that pickup never reads half of one.
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

    public static string DirectoryOf(string queueDirectory) => Path.Combine(queueDirectory, "maildrop");

    /// <summary>Writes the file into the maildrop directory; returns its name.</summary>
    public string Write(string queueDirectory)
    {
        string directory = DirectoryOf(queueDirectory);
        Directory.CreateDirectory(directory);
        string name = $"{DateTime.UtcNow:yyyyMMddHHmmssfff}.{Environment.ProcessId}.{Guid.NewGuid():N}";
        string temporary = Path.Combine(directory, "." + name);
        using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
        {
            var head = new StringBuilder(Magic).Append('\n').Append("S ").Append(Sender).Append('\n');
            if (FullName is not null)
            {
                head.Append("F ").Append(FullName).Append('\n');
            }
            head.Append(Uid is { } uid ? $"U {uid}\n" : "")
                .Append(EnvId.Length > 0 ? $"E {EnvId}\n" : "")
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

    /// <summary>Reads a file; throws InvalidDataException, naming what is wrong, for one that is not a maildrop file.</summary>
    public static MaildropFile Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
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
        uint? uid = null;
        var (ret, notify, verify) = (DsnReturn.Unspecified, DsnNotify.Unspecified, false);
        var recipients = new List<string>();
        foreach (string line in lines.Skip(1))
        {
            switch (line == "V" ? "V " : line.Length < 2 ? "" : line[..2])
            {
                case "U " when uint.TryParse(line[2..], NumberStyles.None, CultureInfo.InvariantCulture, out uint number):
                    uid = number;
                    break;
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
        return new MaildropFile(sender ?? throw new InvalidDataException("no sender"), fullName, recipients, bytes[(end + 2)..])
        {
            Uid = uid,
            EnvId = envId,
            Ret = ret,
            Notify = notify,
            Verify = verify,
        };
    }
}
