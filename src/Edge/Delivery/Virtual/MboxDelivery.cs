using System.Runtime.Versioning;
using System.Text;
using Edge.Unix;

namespace Edge.Delivery.Virtual;

/// <summary>
/// mbox delivery as Postfix does it: under an exclusive lock, a "From sender date" line, the message with
/// ">From " quoting, and a blank line. A failed append is cut off again, so the mailbox is never left with
/// half a message. A file a user names (<c>userFile</c>, a /file destination) is not created with its folders, may
/// be a device such as /dev/null (appended to without truncation or fsync), and must not be executable. A mailbox that
/// the message would take past its size limit (mailbox_size_limit, virtual_mailbox_limit; 0 for none) is left as it was
/// and the message bounces, as Postfix's agents bounce on the file size limit they run under ("File too large").
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static class MboxDelivery
{
    /// <summary>How long to wait for another writer's lock before the recipient is deferred.</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(5);

    public static async Task DeliverAsync(string mailbox, MailboxOwner owner, string sender, byte[] headers,
        Func<Stream, CancellationToken, Task> copyContentAsync, long sizeLimit, CancellationToken cancellationToken, bool userFile = false)
    {
        string? folder = Path.GetDirectoryName(mailbox);
        if (!string.IsNullOrEmpty(folder) && !userFile)
        {
            owner.CreateDirectory(folder);
        }
        await using FileStream file = await OpenLockedAsync(mailbox, owner, cancellationToken);
        FileStatus status = FileStatus.Of(file.SafeFileHandle);
        if (userFile && status.IsRegular && status.IsExecutable)
        {
            throw new MailboxRefusedException("5.7.1", "file is executable");
        }
        if (!userFile && !status.IsRegular)
        {
            throw new MailboxRefusedException("5.2.0", $"destination {mailbox} is not a regular file");
        }
        bool regular = status.IsRegular;
        long start = regular ? file.Seek(0, SeekOrigin.End) : 0;
        try
        {
            await file.WriteAsync(Encoding.UTF8.GetBytes(FromLine(sender, DateTime.Now)), cancellationToken);
            await file.WriteAsync(headers, cancellationToken);
            var writer = new MailboxWriter(file, quoteFrom: true);
            await copyContentAsync(writer, cancellationToken);
            await writer.FinishAsync(cancellationToken);
            await file.WriteAsync(writer.EndsWithNewline ? "\n"u8.ToArray() : "\n\n"u8.ToArray(), cancellationToken);
            if (regular && sizeLimit > 0 && file.Length > sizeLimit)
            {
                throw new MailboxRefusedException("5.2.2", "error writing message: File too large");
            }
            file.Flush(flushToDisk: regular);
        }
        catch when (regular)
        {
            file.SetLength(start);
            throw;
        }
    }

    /// <summary>"From sender Www Mmm dd hh:mm:ss yyyy" (asctime), MAILER-DAEMON for the null sender.</summary>
    internal static string FromLine(string sender, DateTime now) =>
        $"From {(sender.Length > 0 ? sender : "MAILER-DAEMON")} {now:ddd MMM} {now.Day,2} {now:HH:mm:ss yyyy}\n";

    /// <summary>Opening with FileShare.None fails at once while another process holds the lock: try again a while.</summary>
    private static async Task<FileStream> OpenLockedAsync(string mailbox, MailboxOwner owner, CancellationToken cancellationToken)
    {
        DateTime deadline = DateTime.UtcNow + LockWait;
        while (true)
        {
            try
            {
                return owner.Open(mailbox, FileMode.OpenOrCreate);
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException
                                        && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }
}

/// <summary>A file local(8) will not deliver to, with the DSN code of the refusal.</summary>
internal sealed class MailboxRefusedException(string dsn, string message) : IOException(message)
{
    public string Dsn => dsn;
}
