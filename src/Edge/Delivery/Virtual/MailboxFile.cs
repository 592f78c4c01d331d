using System.Runtime.Versioning;
using System.Text;
using Edge.Queue;

namespace Edge.Delivery.Virtual;

/// <summary>
/// Final delivery into one mailbox, shared by local(8) and virtual(8): a Maildir when the path ends in "/",
/// an mbox file otherwise, with Return-Path and Delivered-To first as Postfix's mail_copy() writes them.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static class MailboxFile
{
    /// <param name="sizeLimit">mailbox_size_limit or virtual_mailbox_limit: how large the mailbox (a Maildir's message file) may grow; 0 for no limit.</param>
    public static async Task<DeliveryResult> DeliverAsync(DeliveryJob job, int recipient, string path, MailboxOwner owner,
        string hostname, string relay, long sizeLimit, CancellationToken cancellationToken)
    {
        QueuedMessage message = job.Message;
        string address = message.Recipients[recipient].Address;
        byte[] headers = Encoding.UTF8.GetBytes($"Return-Path: <{message.Sender}>\nDelivered-To: {address.ToLowerInvariant()}\n");
        bool maildir = path.EndsWith('/');
        try
        {
            if (maildir)
            {
                await MaildirDelivery.DeliverAsync(path, owner, headers, job.CopyContentAsync, hostname, sizeLimit, cancellationToken);
            }
            else
            {
                await MboxDelivery.DeliverAsync(path, owner, message.Sender, headers, job.CopyContentAsync, sizeLimit, cancellationToken);
            }
        }
        catch (MailboxRefusedException e)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Bounced, e.Dsn, $"cannot update mailbox {path}: {e.Message}", relay);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new DeliveryResult(recipient, DeliveryStatus.Deferred, "4.2.0",
                $"cannot write {(maildir ? "maildir" : "mailbox")} {path}: {e.Message}", relay);
        }
        return new DeliveryResult(recipient, DeliveryStatus.Sent, "2.0.0", maildir ? "delivered to maildir" : "delivered to mailbox", relay);
    }
}
