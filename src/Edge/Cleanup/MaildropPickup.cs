using Edge.Logging;
using Edge.Mail;
using Edge.Queue;

namespace Edge.Cleanup;

/// <summary>
/// pickup(8): takes the messages edge sendmail left in queue_directory/maildrop through cleanup (as local mail: its
/// headers completed and rewritten in the local context, header and body checks, non_smtpd_milters) into the queue,
/// and removes each file once its message is durable. A file that is not a maildrop file is set aside as .bad-NAME,
/// with a warning, as is a file from a user authorized_submit_users does not name (who submitted a file is its owner), one
/// larger than message_size_limit allows, and one cleanup refuses (a milter's reject): each stays for the administrator.
/// One scan at a time; a wake during a scan makes another follow it. A sendmail -bv request is not
/// queued: <paramref name="verify"/> checks its recipients and queues the report for the sender.
/// </summary>
internal sealed class MaildropPickup(QueueStore queue, string queueDirectory, InternalMail kind, AuthorizedUsers submitters, long sizeLimit,
    Func<MaildropFile, CancellationToken, Task<QueueId>>? verify = null)
{
    private readonly LocalSubmission _local = new(queue);
    private int _requests;

    /// <summary>Scans the maildrop directory, unless a scan is running, which then scans once more when it is done.</summary>
    public async Task ScanAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _requests) > 1)
        {
            return;
        }
        try
        {
            do
            {
                Volatile.Write(ref _requests, 1);
                await ImportAllAsync(cancellationToken);
            }
            while (Interlocked.Decrement(ref _requests) > 0);
        }
        catch
        {
            // The next wake or scan tries again: the files not imported are still there.
            Volatile.Write(ref _requests, 0);
            throw;
        }
    }

    private async Task ImportAllAsync(CancellationToken cancellationToken)
    {
        string directory = MaildropFile.DirectoryOf(queueDirectory);
        if (!Directory.Exists(directory))
        {
            return;
        }
        // Names starting with a dot are files being written, or set aside.
        foreach (string path in Directory.GetFiles(directory).Where(p => !Path.GetFileName(p).StartsWith('.')).Order(StringComparer.Ordinal))
        {
            try
            {
                await ImportAsync(path, cancellationToken);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or MessageRejectedException)
            {
                // A file that cannot become mail stays for the administrator, out of the way of everyone else's.
                SetAside(path, e.Message);
            }
        }
    }

    private async Task ImportAsync(string path, CancellationToken cancellationToken)
    {
        MaildropFile file = MaildropFile.Read(path, sizeLimit);
        if (file.Uid is { } owner && Submitter(owner) is var user && !submitters.Allows(user))
        {
            throw new InvalidDataException($"uid={owner}: User {user}({owner}) is not allowed to submit mail (authorized_submit_users)");
        }
        QueueId id = file.Verify && verify is not null
            ? await verify(file, cancellationToken)
            : await _local.SubmitAsync(kind, file.Sender, file.Recipients, (output, token) => output.WriteAsync(WithFrom(file), token).AsTask(),
                new LocalDsn(file.EnvId, file.Ret, file.Notify), file.Uid, cancellationToken);
        MailLog.Info($"{id}: {(file.Uid is { } uid ? $"uid={uid} " : "")}from=<{file.Sender}>", "pickup");
        File.Delete(path);
    }

    /// <summary>Moves the file to .bad-NAME (or, should something be in that name's way, to a name of its own).</summary>
    private static void SetAside(string path, string why)
    {
        string name = Path.GetFileName(path);
        string directory = Path.GetDirectoryName(path)!;
        string target = ".bad-" + name;
        try
        {
            File.Move(path, Path.Combine(directory, target), overwrite: true);
        }
        catch (IOException)
        {
            target = $".bad-{name}.{Guid.NewGuid():N}";
            File.Move(path, Path.Combine(directory, target));
        }
        MailLog.Warning($"maildrop/{name}: {why}: set aside as maildrop/{target}", "pickup");
    }

    /// <summary>The login name of a uid; "unknown" when the password database has none, as Postfix's user lists match it.</summary>
    private static string Submitter(uint uid) =>
        OperatingSystem.IsWindows() ? "unknown" : Unix.UnixAccount.Lookup(uid)?.Name ?? "unknown";

    /// <summary>The message, with "From: full name &lt;sender&gt;" in front when sendmail -F named one and it has no From:.</summary>
    private static ReadOnlyMemory<byte> WithFrom(MaildropFile file)
    {
        if (file.FullName is null || HasFrom(file.Content))
        {
            return file.Content;
        }
        string name = file.FullName.Replace("\\", "\\\\").Replace("\"", "\\\"");
        return System.Text.Encoding.UTF8.GetBytes($"From: \"{name}\" <{file.Sender}>\r\n").Concat(file.Content).ToArray();
    }

    private static bool HasFrom(byte[] content)
    {
        string text = System.Text.Encoding.UTF8.GetString(content);
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string header = "\r\n" + (end < 0 ? text : text[..end]);
        return header.Contains("\r\nFrom:", StringComparison.OrdinalIgnoreCase);
    }
}
