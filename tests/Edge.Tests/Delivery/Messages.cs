using System.Net;
using System.Text;
using Edge.Delivery.Smtp;
using Edge.Mail;
using Edge.Queue;

namespace Edge.Tests.Delivery;

/// <summary>Delivery requests over in-memory content, and the options tests deliver with.</summary>
internal static class Messages
{
    public static DeliveryRequest Request(string content, params string[] recipients) =>
        Request(Encoding.UTF8.GetBytes(content), recipients);

    public static DeliveryRequest Request(byte[] content, params string[] recipients) => new(
        QueueId.New(), "sender@example.org",
        [.. recipients.Select(r => new QueuedRecipient(r, "", DsnNotify.Unspecified))],
        content.Length, BodyType.Unspecified, false, DsnReturn.Unspecified, "",
        // Written in uneven pieces, as a queue's chunks would come: dot-stuffing must not depend on where writes split.
        async (stream, cancellationToken) =>
        {
            for (int offset = 0; offset < content.Length; offset += 7919)
            {
                await stream.WriteAsync(content.AsMemory(offset, Math.Min(7919, content.Length - offset)), cancellationToken);
            }
        });

    public static NextHopServer Local(string host, int port) => new(host, new IPEndPoint(IPAddress.Loopback, port));

    public static SmtpClientOptions Options(SmtpTlsLevel tls = SmtpTlsLevel.None, bool lmtp = false) => new()
    {
        HeloName = "client.example",
        TlsLevel = tls,
        Lmtp = lmtp,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        HeloTimeout = TimeSpan.FromSeconds(20),
        MailTimeout = TimeSpan.FromSeconds(20),
        RcptTimeout = TimeSpan.FromSeconds(20),
        DataInitTimeout = TimeSpan.FromSeconds(20),
        DataXferTimeout = TimeSpan.FromSeconds(20),
        DataDoneTimeout = TimeSpan.FromSeconds(20),
        QuitTimeout = TimeSpan.FromSeconds(5),
    };

    public static async Task<IReadOnlyList<RecipientOutcome>> DeliverAsync(DeliveryRequest request, SmtpClientOptions options,
        params NextHopServer[] servers)
    {
        await using var agent = new SmtpDeliveryAgent();
        return await agent.DeliverAsync(request, servers, options, CancellationToken.None);
    }

    /// <summary>Message text with the given lines, CRLF after each.</summary>
    public static string Lines(params string[] lines) => string.Concat(lines.Select(line => line + "\r\n"));

    /// <summary>About <paramref name="bytes"/> of text in 78-character lines, every 50th starting with a dot.</summary>
    public static string Large(int bytes)
    {
        var text = new StringBuilder("Subject: large\r\n\r\n", bytes + 100);
        for (int line = 0; text.Length < bytes; line++)
        {
            text.Append(line % 50 == 0 ? '.' : 'x').Append((char)('a' + line % 26), 77).Append("\r\n");
        }
        return text.ToString();
    }
}
