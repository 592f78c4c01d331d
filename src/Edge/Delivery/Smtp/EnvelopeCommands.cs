using System.Text;
using Edge.Mail;
using Edge.Queue;
using Edge.Smtp.Protocol;

namespace Edge.Delivery.Smtp;

/// <summary>MAIL FROM and RCPT TO with the parameters the server announced it takes, as Postfix's smtp client sends them.</summary>
internal static class EnvelopeCommands
{
    /// <param name="generic">smtp_generic_maps, which may give the next hop other addresses than the queue holds.</param>
    public static string Mail(DeliveryRequest request, EhloFeatures features, GenericHeaderRewriter? generic = null)
    {
        var command = new StringBuilder("MAIL FROM:<").Append(generic?.Envelope(request.Sender) ?? request.Sender).Append('>');
        if (features.Size)
        {
            command.Append(" SIZE=").Append(request.Size);
        }
        // Without 8BITMIME at the server the message goes as it is (Postfix would convert it to 7bit first).
        if (request.Body == BodyType.EightBitMime && features.EightBitMime)
        {
            command.Append(" BODY=8BITMIME");
        }
        if (request.SmtpUtf8 && features.SmtpUtf8)
        {
            command.Append(" SMTPUTF8");
        }
        if (features.Dsn)
        {
            if (request.Ret != DsnReturn.Unspecified)
            {
                command.Append(request.Ret == DsnReturn.Full ? " RET=FULL" : " RET=HDRS");
            }
            if (request.EnvId.Length > 0)
            {
                command.Append(" ENVID=").Append(AsXText(request.EnvId));
            }
        }
        return command.ToString();
    }

    public static string Rcpt(QueuedRecipient recipient, EhloFeatures features, GenericHeaderRewriter? generic = null)
    {
        var command = new StringBuilder("RCPT TO:<").Append(generic?.Envelope(recipient.Address) ?? recipient.Address).Append('>');
        if (features.Dsn)
        {
            if (recipient.Notify != DsnNotify.Unspecified)
            {
                command.Append(" NOTIFY=").Append(Notify(recipient.Notify));
            }
            if (recipient.Orcpt.Length > 0)
            {
                int semicolon = recipient.Orcpt.IndexOf(';');
                command.Append(" ORCPT=").Append(recipient.Orcpt.AsSpan(0, semicolon + 1)).Append(AsXText(recipient.Orcpt[(semicolon + 1)..]));
            }
        }
        return command.ToString();
    }

    /// <summary>
    /// Whether the message cannot go without SMTPUTF8: the sender asked for it and an envelope address is not
    /// ASCII. (Postfix's cleanup also looks at the headers; Edge's queue does not record that yet.)
    /// </summary>
    public static bool NeedsSmtpUtf8(DeliveryRequest request)
    {
        if (!request.SmtpUtf8)
        {
            return false;
        }
        if (!Ascii.IsValid(request.Sender))
        {
            return true;
        }
        foreach (QueuedRecipient recipient in request.Recipients)
        {
            if (!Ascii.IsValid(recipient.Address))
            {
                return true;
            }
        }
        return false;
    }

    private static string Notify(DsnNotify notify)
    {
        if (notify.HasFlag(DsnNotify.Never))
        {
            return "NEVER";
        }
        var words = new List<string>(3);
        if (notify.HasFlag(DsnNotify.Success))
        {
            words.Add("SUCCESS");
        }
        if (notify.HasFlag(DsnNotify.Failure))
        {
            words.Add("FAILURE");
        }
        if (notify.HasFlag(DsnNotify.Delay))
        {
            words.Add("DELAY");
        }
        return string.Join(',', words);
    }

    /// <summary>
    /// ENVID and ORCPT as xtext. The queue keeps them as the client sent them, already xtext, and they go
    /// unchanged; text that is not valid xtext (from another source) is encoded.
    /// </summary>
    private static string AsXText(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (XText.IsValid(bytes))
        {
            return text;
        }
        var encoded = new StringBuilder(bytes.Length * 3);
        foreach (byte b in bytes)
        {
            if (b is < 0x21 or > 0x7e or (byte)'+' or (byte)'=')
            {
                encoded.Append('+').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                encoded.Append((char)b);
            }
        }
        return encoded.ToString();
    }
}
