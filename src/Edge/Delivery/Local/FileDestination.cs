using System.Runtime.Versioning;
using Edge.Queue;
using System.Text;
using Edge.Delivery.Virtual;
using Edge.Unix;

namespace Edge.Delivery.Local;

/// <summary>
/// local(8)'s delivery to a file named in an alias, .forward or :include: file: appended in mbox form under a lock,
/// or into a Maildir when the name ends in "/", every step with the rights it is given. An executable file is
/// refused; a file that cannot be opened bounces, as Postfix's deliver_file() does.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static class FileDestination
{
    public static async Task<(DeliveryStatus Status, string Dsn, string Reason)> DeliverAsync(LocalSettings settings, DeliveryJob job,
        int recipient, string path, UnixUser rights, string delivered, CancellationToken cancellationToken)
    {
        if (!FileRights.CanAct(rights.Uid))
        {
            return (DeliveryStatus.Deferred, "4.3.0", $"cannot append message to file {path} as uid {rights.Uid}: Edge is not running as root");
        }
        var message = job.Message;
        byte[] headers = Encoding.UTF8.GetBytes($"Return-Path: <{message.Sender}>\n"
            + $"X-Original-To: {message.Recipients[recipient].Original}\n"
            + (settings.DeliveredHeader.File ? $"Delivered-To: {delivered}\n" : ""));
        MailboxOwner owner = MailboxOwner.Impersonating(rights.Uid, rights.Gid);
        try
        {
            // A FIFO would hold the delivery for as long as nobody reads it.
            if (!path.EndsWith('/') && FileRights.As(rights.Uid, rights.Gid, () => File.Exists(path) && FileStatus.OfTarget(path).IsPipe))
            {
                return (DeliveryStatus.Bounced, "5.2.0", $"cannot append message to file {path}: not a regular file or device");
            }
            if (path.EndsWith('/'))
            {
                await MaildirDelivery.DeliverAsync(path, owner, headers, job.CopyContentAsync, settings.Hostname, settings.MailboxSizeLimit, cancellationToken);
                return (DeliveryStatus.Sent, "2.0.0", "delivered to maildir");
            }
            await MboxDelivery.DeliverAsync(path, owner, message.Sender, headers, job.CopyContentAsync, settings.MailboxSizeLimit, cancellationToken, userFile: true);
            return (DeliveryStatus.Sent, "2.0.0", $"delivered to file: {path}");
        }
        catch (MailboxRefusedException e)
        {
            return (DeliveryStatus.Bounced, e.Dsn, $"cannot append message to file {path}: {e.Message}");
        }
        catch (Exception e) when (e is UnauthorizedAccessException or FileNotFoundException or DirectoryNotFoundException)
        {
            return (DeliveryStatus.Bounced, "5.2.0", $"cannot append message to file {path}: cannot open file: {e.Message}");
        }
        catch (IOException e)
        {
            return (DeliveryStatus.Deferred, "4.2.0", $"cannot append message to file {path}: {e.Message}");
        }
    }
}
