using System.Globalization;
using System.Text;
using Edge.Mail;
using Edge.Queue;
using Edge.Smtp.Protocol;
using Edge.Streams;

namespace Edge.Delivery;

/// <summary>
/// A delivery status notification as Postfix's bounce(8) writes it: an RFC 3464 multipart/report from the
/// mail system with a human-readable part, the message/delivery-status part (Reporting-MTA, Arrival-Date,
/// Original-Envelope-Id, and per recipient Final-Recipient, Original-Recipient, Action, Status,
/// Diagnostic-Code) and the message. A failure notice returns the message whole or its headers only
/// (RET=HDRS); a success notice (NOTIFY=SUCCESS) only ever the headers, as RET applies to failures. A report that
/// sendmail -bv asked for (every action "deliverable" or "undeliverable") says what delivery would do, with the headers.
/// </summary>
internal static class BounceMessage
{
    /// <summary>
    /// One recipient's line in the report; <paramref name="Action"/> is failed, delayed, delivered or relayed, or for
    /// a requested report deliverable or undeliverable.
    /// </summary>
    internal sealed record Failure(QueuedRecipient Recipient, string Dsn, string Reason, string Relay, string Action = "failed");

    /// <summary>
    /// The recipients that get a failure notice: not for the null sender (no bounce of a bounce), and not
    /// for a recipient that asked for none (RFC 3461 NOTIFY without FAILURE).
    /// </summary>
    public static IReadOnlyList<Failure> Reportable(QueuedMessage message, IEnumerable<Failure> failures) =>
        message.Sender.Length == 0
            ? []
            : [.. failures.Where(f => f.Recipient.Notify == DsnNotify.Unspecified || (f.Recipient.Notify & DsnNotify.Failure) != 0)];

    /// <summary>The waiting recipients that get a delay warning: those without NOTIFY, or with NOTIFY=DELAY.</summary>
    public static IReadOnlyList<Failure> DelayReportable(QueuedMessage message, IEnumerable<Failure> waiting) =>
        message.Sender.Length == 0
            ? []
            : [.. waiting.Where(w => w.Recipient.Notify == DsnNotify.Unspecified || (w.Recipient.Notify & DsnNotify.Delay) != 0)];

    /// <param name="sizeLimit">bounce_size_limit: how much of the original goes back (0: all of it).</param>
    /// <param name="retriedUntil">For a delay warning: how long the message will be retried (maximal_queue_lifetime).</param>
    /// <param name="postmaster">For the postmaster's copy (notify_classes): its recipient; the message's headers only.</param>
    public static async Task WriteAsync(Stream output, QueuedMessage message, IReadOnlyList<Failure> failures,
        string myHostname, Func<Stream, CancellationToken, Task> copyOriginal, CancellationToken cancellationToken,
        long sizeLimit, TimeSpan retriedUntil = default, string? postmaster = null)
    {
        string boundary = $"{message.Id}.{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}/{myHostname}";
        string now = DateTimeOffset.UtcNow.ToString("ddd, d MMM yyyy HH:mm:ss +0000 (UTC)", CultureInfo.InvariantCulture);
        string arrival = message.Id.Arrival.ToString("ddd, d MMM yyyy HH:mm:ss +0000 (UTC)", CultureInfo.InvariantCulture);
        bool requested = failures.Count > 0 && failures.All(f => f.Action is "deliverable" or "undeliverable");
        bool delayed = failures.All(f => f.Action == "delayed");
        bool success = !delayed && failures.All(f => f.Action != "failed");
        bool headersOnly = success || delayed || postmaster is not null || message.Ret == DsnReturn.Headers;
        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append("\r\n");

        Line($"From: MAILER-DAEMON@{myHostname} (Mail Delivery System)");
        Line($"To: {postmaster ?? message.Sender}");
        Line($"Subject: {(requested ? "Mail Delivery Status Report" : postmaster is not null ? delayed ? "Postmaster Warning: Delayed Mail" : "Postmaster Copy: Undelivered Mail" : success ? "Successful Mail Delivery Report" : delayed ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender")}");
        Line($"Date: {now}");
        Line($"Message-Id: <{DateTimeOffset.UtcNow:yyyyMMddHHmmss}.{message.Id}@{myHostname}>");
        Line("Auto-Submitted: auto-replied");
        Line("MIME-Version: 1.0");
        Line($"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"");
        Line("Content-Transfer-Encoding: 8bit");
        Line("");
        Line("This is a MIME-encapsulated message.");
        Line("");
        Line($"--{boundary}");
        Line("Content-Description: Notification");
        Line("Content-Type: text/plain; charset=utf-8");
        Line("");
        Line($"This is the mail system at host {myHostname}.");
        Line("");
        if (requested)
        {
            Line("Enclosed is the mail delivery report that you requested.");
        }
        else if (delayed)
        {
            Line("####################################################################");
            Line("# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #");
            Line("####################################################################");
            Line("");
            Line($"Your message could not be delivered for {(DateTimeOffset.UtcNow - message.Id.Arrival).TotalHours.ToString("0.0", CultureInfo.InvariantCulture)} hours.");
            Line($"It will be retried until it is {retriedUntil.TotalDays.ToString("0.0", CultureInfo.InvariantCulture)} days old.");
        }
        else if (success)
        {
            Line("Your message was successfully delivered to the destination(s)");
            Line("listed below. If the message was delivered to mailbox you will");
            Line("receive no further notifications. Otherwise you may still receive");
            Line("notifications of mail delivery errors from other systems.");
        }
        else
        {
            Line("I'm sorry to have to inform you that your message could not");
            Line("be delivered to one or more recipients. It's attached below.");
            Line("");
            Line("For further assistance, please send mail to postmaster.");
        }
        Line("");
        Line("                   The mail system");
        Line("");
        foreach (Failure f in failures)
        {
            Line($"<{f.Recipient.Address}>: {(f.Action == "deliverable" ? $"delivery via {f.Relay}: " : "")}{f.Reason}");
        }
        Line("");
        Line($"--{boundary}");
        Line("Content-Description: Delivery report");
        Line("Content-Type: message/delivery-status");
        Line("");
        Line($"Reporting-MTA: dns; {myHostname}");
        Line($"X-Postfix-Queue-ID: {message.Id}");
        Line($"X-Postfix-Sender: rfc822; {message.Sender}");
        Line($"Arrival-Date: {arrival}");
        if (message.EnvId.Length > 0)
        {
            // The queue keeps ENVID and ORCPT as the client sent them, in xtext; a DSN carries them decoded
            // (RFC 3461 4.2 and 4.4), as Postfix's do.
            Line($"Original-Envelope-Id: {Decoded(message.EnvId)}");
        }
        foreach (Failure f in failures)
        {
            Line("");
            Line($"Final-Recipient: rfc822; {f.Recipient.Address}");
            if (f.Recipient.Orcpt.Length > 0)
            {
                int semicolon = f.Recipient.Orcpt.IndexOf(';');
                Line($"Original-Recipient: {f.Recipient.Orcpt[..(semicolon + 1)]}{Decoded(f.Recipient.Orcpt[(semicolon + 1)..])}");
            }
            Line($"Action: {f.Action}");
            Line($"Status: {f.Dsn}");
            // A server ("host[addr]:port") said it; otherwise the reason is Edge's own (or a local agent's).
            bool remote = f.Relay.Contains('[');
            if (remote)
            {
                Line($"Remote-MTA: dns; {f.Relay}");
            }
            Line($"Diagnostic-Code: {(remote ? "smtp" : "X-Postfix")}; {f.Reason}");
        }
        Line("");
        Line($"--{boundary}");
        Line($"Content-Description: {(requested ? "" : success ? "Delivered " : "Undelivered ")}Message{(headersOnly ? " Headers" : "")}");
        Line(headersOnly ? "Content-Type: text/rfc822-headers" : "Content-Type: message/rfc822");
        Line("");
        await output.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken);
        await using (var limited = sizeLimit > 0 ? new SizeLimitedStream(output, sizeLimit) : null)
        await using (var headers = headersOnly ? new HeadersOnlyStream((Stream?)limited ?? output) : null)
        {
            await copyOriginal((Stream?)headers ?? (Stream?)limited ?? output, cancellationToken);
        }
        await output.WriteAsync(Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n"), cancellationToken);
    }

    /// <summary>
    /// An xtext value decoded for a DSN field; one whose decoded form has control characters (which would
    /// break the field, or add lines to the report) stays as it was sent.
    /// </summary>
    private static string Decoded(string xtext)
    {
        string decoded = XText.Decode(Encoding.UTF8.GetBytes(xtext));
        return decoded.Any(char.IsControl) ? xtext : decoded;
    }

    /// <summary>
    /// bounce_size_limit: passes whole lines until that many bytes went through, as Postfix's bounce daemon
    /// returns the original (the line that crosses the limit still goes).
    /// </summary>
    private sealed class SizeLimitedStream(Stream inner, long limit) : WriteOnlyStream
    {
        private long _passed;
        private bool _atLineStart = true;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int i = 0;
            while (i < buffer.Length && !(_atLineStart && _passed >= limit))
            {
                int newline = buffer.Span[i..].IndexOf((byte)'\n');
                int end = newline < 0 ? buffer.Length : i + newline + 1;
                _passed += end - i;
                _atLineStart = newline >= 0;
                i = end;
            }
            await inner.WriteAsync(buffer[..i], cancellationToken);
        }
    }

    /// <summary>Passes bytes through up to the empty line that ends the header, and drops the rest (RET=HDRS).</summary>
    private sealed class HeadersOnlyStream(Stream inner) : WriteOnlyStream
    {
        private int _matched;
        private bool _done;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_done)
            {
                return;
            }
            ReadOnlySpan<byte> end = "\r\n\r\n"u8;
            int i = 0;
            for (; i < buffer.Length && !_done; i++)
            {
                _matched = buffer.Span[i] == end[_matched] ? _matched + 1 : buffer.Span[i] == end[0] ? 1 : 0;
                _done = _matched == end.Length;
            }
            await inner.WriteAsync(buffer[..i], cancellationToken);
        }
    }
}
