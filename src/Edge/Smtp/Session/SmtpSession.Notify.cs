using System.Text;
using Edge.Cleanup;
using Edge.Logging;

namespace Edge.Smtp.Session;

/// <summary>
/// smtpd_chat_notify(): at the end of a session that had errors of a class notify_classes names, the postmaster
/// (error_notice_recipient) gets the transcript, from double_bounce_sender, as Postfix writes it.
/// </summary>
internal sealed partial class SmtpSession
{
    private async Task NotifyPostmasterAsync(string? reason)
    {
        if (_transcript is null || _s.Notify is not { } notify)
        {
            return;
        }
        foreach (string history in _transcript.Notices())
        {
            try
            {
                await new LocalSubmission(_queue).SubmitAsync(notify.Kind, notify.Sender, [notify.Recipient],
                    (output, token) => output.WriteAsync(Encoding.UTF8.GetBytes(Notice(notify, history, reason)), token).AsTask(), _hardStop);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                MailLog.Warning($"postmaster notify: {e.Message}");
            }
        }
    }

    private string Notice(SessionNotify notify, string history, string? reason)
    {
        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append("\r\n");
        Line($"From: Mail Delivery System <{notify.MailerDaemon}>");
        Line($"To: Postmaster <{notify.Recipient}>");
        Line($"Subject: {_s.MailName} SMTP server: errors from {_peer.NamAddr}");
        Line("");
        Line("Transcript of session follows.");
        Line("");
        foreach (string line in history.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Wrap(Printable.Text(line), Line);
        }
        Line("");
        if (reason is not null)
        {
            Line($"Session aborted, reason: {reason}");
        }
        Line("");
        Line("For other details, see the local mail logfile");
        return text.ToString();
    }

    /// <summary>line_wrap() at 78 columns with continuation lines indented by 4, each line with one space before it.</summary>
    private static void Wrap(string line, Action<string> write)
    {
        const int Length = 78, Indent = 4;
        string indent = "";
        while (indent.Length + line.Length > Length)
        {
            int room = Length - indent.Length;
            int cut = line.LastIndexOf(' ', room);
            cut = cut <= 0 ? room : cut;
            write(" " + indent + line[..cut]);
            line = line[cut..].TrimStart(' ');
            indent = new string(' ', Indent);
        }
        write(" " + indent + line);
    }
}
