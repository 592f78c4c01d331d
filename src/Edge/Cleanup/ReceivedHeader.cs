using System.Buffers;
using System.Globalization;
using System.Text.Unicode;
using Edge.Mail;
using Edge.Queue;

namespace Edge.Cleanup;

/// <summary>
/// The Received: header Postfix's smtpd prepends: who connected, who received it, with which protocol
/// (SMTP, ESMTP, ESMTPS, UTF8SMTP …), the queue ID, the recipient when there is exactly one, and the date.
/// Written straight into a byte buffer: no string is built for it. Mail a local user submitted gets pickup's
/// shorter form, which names the user's uid instead of a client.
/// </summary>
internal static class ReceivedHeader
{
    /// <summary>The header for <paramref name="envelope"/> from the client <paramref name="submission"/> names, into <paramref name="output"/>.</summary>
    public static void Write(IContentSink output, Envelope envelope, Submission submission, string myHostname, string mailName)
    {
        if (submission.Userid is { } uid)
        {
            output.Write(System.Text.Encoding.UTF8.GetBytes(
                $"Received: by {myHostname} ({mailName}, from userid {uid})\r\n\tid {envelope.Id}; {MailDate.Format(DateTimeOffset.UtcNow)}\r\n"));
            return;
        }
        EnvelopeRecord.Client client = submission.Client;
        ReadOnlySpan<byte> single = envelope.RecipientCount == 1 ? envelope[envelope.Recipients[0].Address] : default;
        string helo = submission.Helo ?? client.Name;
        int max = MaxLength(helo, client.Name, client.Address, myHostname, (submission.TlsSummary ?? "") + submission.AuthenticatedSender + submission.TlsClient, single.Length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(max);
        int length = Write(buffer, helo, client.Name, client.Address, myHostname, mailName, client.Protocol, submission.TlsSummary,
            submission.TlsClient, submission.AuthenticatedSender, envelope.Id, single, DateTimeOffset.UtcNow);
        output.Write(buffer.AsSpan(0, length));
        ArrayPool<byte>.Shared.Return(buffer);
    }

    public static int Write(Span<byte> destination, string helo, string clientName, string clientAddress,
        string myHostname, string mailName, string protocol, string? tlsSummary, string? tlsClient, string? authenticatedSender, QueueId queueId,
        ReadOnlySpan<byte> singleRecipient, DateTimeOffset now)
    {
        int written = 0;
        bool ok = Utf8.TryWrite(destination, CultureInfo.InvariantCulture,
            $"Received: from {helo} ({clientName} [{clientAddress}])\r\n", out int n);
        written += n;
        if (tlsSummary is not null)
        {
            ok &= Utf8.TryWrite(destination[written..], CultureInfo.InvariantCulture, $"\t(using {tlsSummary})\r\n", out n);
            written += n;
        }
        if (tlsClient is not null)
        {
            ok &= Utf8.TryWrite(destination[written..], CultureInfo.InvariantCulture, $"\t{tlsClient}\r\n", out n);
            written += n;
        }
        if (authenticatedSender is not null)
        {
            ok &= Utf8.TryWrite(destination[written..], CultureInfo.InvariantCulture, $"\t(Authenticated sender: {authenticatedSender})\r\n", out n);
            written += n;
        }
        ok &= Utf8.TryWrite(destination[written..], CultureInfo.InvariantCulture,
            $"\tby {myHostname} ({mailName}) with {protocol} id {queueId}", out n);
        written += n;
        if (!singleRecipient.IsEmpty)
        {
            ok &= Utf8.TryWrite(destination[written..], CultureInfo.InvariantCulture, $"\r\n\tfor <", out n);
            written += n;
            ok &= singleRecipient.TryCopyTo(destination[written..]);
            written += ok ? singleRecipient.Length : 0;
            ok &= Utf8.TryWrite(destination[written..], CultureInfo.InvariantCulture, $">; ", out n);
            written += n;
        }
        else
        {
            ok &= Utf8.TryWrite(destination[written..], CultureInfo.InvariantCulture, $";\r\n\t", out n);
            written += n;
        }
        ok &= MailDate.TryWrite(destination[written..], now, out n);
        written += n;
        ok &= "\r\n"u8.TryCopyTo(destination[written..]);
        written += 2;
        if (!ok)
        {
            throw new ArgumentException("Received header does not fit the buffer", nameof(destination));
        }
        return written;
    }

    /// <summary>An upper bound of the header's size for these inputs.</summary>
    public static int MaxLength(string helo, string clientName, string clientAddress, string myHostname,
        string tlsSummary, int recipientLength) =>
        200 + 3 * (helo.Length + clientName.Length + clientAddress.Length + myHostname.Length + tlsSummary.Length)
        + recipientLength;
}
