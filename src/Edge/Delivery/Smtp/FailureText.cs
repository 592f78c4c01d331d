namespace Edge.Delivery.Smtp;

/// <summary>Postfix's wording for what went wrong, so that logs and bounces read as Postfix's do.</summary>
internal static class FailureText
{
    // The stages Postfix names in "lost connection with … while …" (smtp_proto.c, xfer_states).
    public const string Greeting = "receiving the initial server greeting";
    public const string Ehlo = "performing the EHLO handshake";
    public const string Helo = "performing the HELO handshake";
    public const string Lhlo = "performing the LHLO handshake";
    public const string StartTls = "sending STARTTLS";
    public const string Mail = "sending MAIL FROM";
    public const string Rcpt = "sending RCPT TO";
    public const string Data = "sending DATA command";
    public const string Body = "sending message body";
    public const string EndOfData = "sending end of data -- message may be sent more than once";

    // The commands Postfix names in "(in reply to … command)".
    public const string MailCommand = "MAIL FROM";
    public const string RcptCommand = "RCPT TO";
    public const string DataCommand = "DATA";
    public const string EndOfDataCommand = "end of DATA";

    public static string Connect(NextHopServer server, string error) => $"connect to {server.Relay}: {error}";

    public static string LostConnection(NextHopServer server, string stage) => $"lost connection with {server.NameAddr} while {stage}";

    public static string TimedOut(NextHopServer server, string stage) => $"conversation with {server.NameAddr} timed out while {stage}";

    public static string RefusedToTalk(NextHopServer server, SmtpReply reply) => $"host {server.NameAddr} refused to talk to me: {reply.Text}";

    public static string Said(NextHopServer server, SmtpReply reply, string command) =>
        $"host {server.NameAddr} said: {reply.Text} (in reply to {command} command)";
}
