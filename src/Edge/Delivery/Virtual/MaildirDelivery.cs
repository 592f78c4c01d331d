using System.Runtime.Versioning;

namespace Edge.Delivery.Virtual;

/// <summary>
/// Maildir delivery as Postfix does it: the message goes to tmp/ under a unique name, is fsynced, and is then
/// renamed into new/, so that a mail reader never sees half a message. A message file larger than the size limit (0 for
/// none) is removed again and the message bounces.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static class MaildirDelivery
{
    private static long s_deliveries;

    public static async Task DeliverAsync(string maildir, MailboxOwner owner, byte[] headers,
        Func<Stream, CancellationToken, Task> copyContentAsync, string hostname, long sizeLimit, CancellationToken cancellationToken)
    {
        maildir = maildir.TrimEnd('/');
        foreach (string folder in (string[])["tmp", "new", "cur"])
        {
            owner.CreateDirectory(Path.Combine(maildir, folder));
        }
        string name = UniqueName(hostname);
        string temporary = Path.Combine(maildir, "tmp", name);
        FileStream file = owner.Open(temporary, FileMode.CreateNew);
        try
        {
            await using (file)
            {
                await file.WriteAsync(headers, cancellationToken);
                var writer = new MailboxWriter(file, quoteFrom: false);
                await copyContentAsync(writer, cancellationToken);
                await writer.FinishAsync(cancellationToken);
                if (sizeLimit > 0 && file.Length > sizeLimit)
                {
                    throw new MailboxRefusedException("5.2.2", "error writing message: File too large");
                }
                file.Flush(flushToDisk: true);
            }
            owner.Move(temporary, Path.Combine(maildir, "new", name));
        }
        catch
        {
            owner.Delete(temporary);
            throw;
        }
    }

    /// <summary>"seconds.MusecPpidQn.host", with the host's "/" and ":" escaped as Postfix does.</summary>
    private static string UniqueName(string hostname)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        long microseconds = now.Ticks / 10 % 1_000_000;
        long count = Interlocked.Increment(ref s_deliveries);
        string host = hostname.Replace("/", @"\057").Replace(":", @"\072");
        return $"{now.ToUnixTimeSeconds()}.M{microseconds}P{Environment.ProcessId}Q{count}.{host}";
    }
}
