using System.Text;
using Edge.Cleanup;
using Edge.Config;
using Edge.Mail;
using MimeKit;

namespace Edge.Cli;

/// <summary>
/// <c>edge sendmail</c>, Postfix's sendmail(1) for cron, scripts and pipes: the message on standard input goes into
/// queue_directory/maildrop, whence the pickup service (master.cf's pickup line) takes it through cleanup into the
/// queue, at once when a server runs (it watches the directory), or when one starts. -t takes the recipients from To:, Cc: and
/// Bcc: (Bcc: is removed), besides those on the command line; -f or -r the sender (the user by default); -F the full
/// name of a From: header sendmail adds to a message without one; -i or -oi reads to the end (otherwise a line with
/// only "." ends the message); -N, -R and -V are the DSN requests NOTIFY, RET and ENVID. -bv verifies the recipients
/// instead and mails the sender a report; -bs speaks SMTP on standard input and output (<see cref="SendmailSmtp"/>).
/// -bp is mailq, -bi and -I newaliases; other -o options are ignored, as in Postfix.
/// </summary>
internal static class SendmailCommand
{
    private const int ExUsage = 64;
    private const int ExNoPerm = 77;

    public static async Task<int> RunAsync(string[] args, Stream stdin, TextWriter stderr)
    {
        try
        {
            return await SubmitAsync(args, stdin, stderr);
        }
        catch (UsageException e)
        {
            return Fatal(stderr, e.Message, ExUsage);
        }
    }

    private static async Task<int> SubmitAsync(string[] args, Stream stdin, TextWriter stderr)
    {
        string? configDirectory = null, sender = null, fullName = null;
        bool extract = false, toEnd = false, verify = false, smtp = false;
        var dsn = new LocalDsn("", DsnReturn.Unspecified, DsnNotify.Unspecified);
        var recipients = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value(string flag) => arg.Length > flag.Length ? arg[flag.Length..] : ++i < args.Length ? args[i]
                : throw new UsageException($"option {flag} requires an argument");
            if (!arg.StartsWith('-') || arg == "-")
            {
                recipients.Add(arg);
                continue;
            }
            switch (arg)
            {
                case "-t":
                    extract = true;
                    break;
                case "-i" or "-oi":
                    toEnd = true;
                    break;
                case "-bm":
                    break;
                case "-bv":
                    verify = true;
                    break;
                case "-bs":
                    smtp = true;
                    break;
                case var n when n.StartsWith("-N", StringComparison.Ordinal):
                    dsn = dsn with { Notify = Notify(Value("-N")) };
                    break;
                case var r when r.StartsWith("-R", StringComparison.Ordinal):
                    dsn = dsn with { Ret = Value("-R").ToLowerInvariant() switch
                    {
                        "full" => DsnReturn.Full,
                        "hdrs" => DsnReturn.Headers,
                        var other => throw new UsageException($"bad -R option value: {other} (full or hdrs)"),
                    } };
                    break;
                case var v when v.StartsWith("-V", StringComparison.Ordinal):
                    dsn = dsn with { EnvId = EnvId(Value("-V")) };
                    break;
                case "-bp":
                    return await AdminCommands.PostqueueAsync(CommandLine.Parse(configDirectory is null ? ["-p"] : ["-p", "-c", configDirectory]), stderr);
                case "-bi" or "-I":
                    return PostmapCommand.Run("newaliases", configDirectory is null ? [] : ["-c", configDirectory], TextReader.Null, Console.Out, stderr);
                case var c when c.StartsWith("-C", StringComparison.Ordinal) || c.StartsWith("-c", StringComparison.Ordinal):
                    // -c DIR as every edge subcommand takes it; -C DIR as Postfix's sendmail.
                    configDirectory = Value(c[..2]);
                    break;
                case var f when f.StartsWith("-f", StringComparison.Ordinal) || f.StartsWith("-r", StringComparison.Ordinal):
                    sender = Value(f[..2]);
                    break;
                case var n when n.StartsWith("-F", StringComparison.Ordinal):
                    fullName = Value("-F");
                    break;
                case var o when o.StartsWith("-o", StringComparison.Ordinal):
                    // -odb, -oem, -om …: sendmail's delivery and error modes, which Postfix ignores too.
                    break;
                default:
                    return Fatal(stderr, $"option {arg} is not implemented by Edge yet (-t, -f, -r, -F, -i, -oi, -N, -R, -V, -bm, -bs, -bv, -bp, -bi, -c and -C are)", ExUsage);
            }
        }
        MainConfig config = MainConfig.Load(configDirectory);
        string queueDirectory = Path.GetFullPath(config.Get("queue_directory"));
        if (!AuthorizedUsers.From(config).Allows(Environment.UserName))
        {
            return Fatal(stderr, $"User {Environment.UserName} is not allowed to submit mail (authorized_submit_users)", ExNoPerm);
        }
        if (smtp)
        {
            await new SendmailSmtp(config.Get("myhostname"), config.Get("smtpd_banner"), file => file.Write(queueDirectory)).RunAsync(stdin, Console.OpenStandardOutput());
            return 0;
        }
        // A -bv request is about its recipients: there is no message to read, unless -t takes them from one.
        byte[] content = verify && !extract ? [] : ReadMessage(stdin, toEnd);
        if (extract)
        {
            (content, IReadOnlyList<string> found) = ExtractRecipients(content);
            recipients.AddRange(found);
        }
        if (recipients.Count == 0)
        {
            return Fatal(stderr, extract ? "No recipient addresses found in message header"
                : "Recipient addresses must be specified on the command line or via the -t option", ExUsage);
        }
        sender = sender is "<>" ? "" : sender ?? Environment.UserName;
        new MaildropFile(sender, fullName, recipients, content)
        {
            EnvId = dsn.EnvId,
            Ret = dsn.Ret,
            Notify = dsn.Notify,
            Verify = verify,
        }.Write(queueDirectory);
        return 0;
    }

    /// <summary>-N: "never", or a list of success, delay and failure, as Postfix's sendmail takes it.</summary>
    private static DsnNotify Notify(string value)
    {
        var notify = DsnNotify.Unspecified;
        foreach (string item in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            notify |= item.ToLowerInvariant() switch
            {
                "never" => DsnNotify.Never,
                "success" => DsnNotify.Success,
                "delay" => DsnNotify.Delay,
                "failure" => DsnNotify.Failure,
                _ => throw new UsageException($"bad -N option value: {value} (never, or a list of success, delay and failure)"),
            };
        }
        return notify == DsnNotify.Unspecified || ((notify & DsnNotify.Never) != 0 && notify != DsnNotify.Never)
            ? throw new UsageException($"bad -N option value: {value} (never, or a list of success, delay and failure)")
            : notify;
    }

    /// <summary>-V: printable ASCII of at most 100 characters, kept in xtext as ENVID is queued.</summary>
    private static string EnvId(string value) =>
        value.Length is > 0 and <= 100 && value.All(c => c is > ' ' and < (char)127)
            ? Smtp.Protocol.XText.Encode(value)
            : throw new UsageException($"bad -V option value: {value} (at most 100 printable ASCII characters)");

    /// <summary>The message with CRLF line ends; without -i a line with only "." ends it, as sendmail's.</summary>
    private static byte[] ReadMessage(Stream stdin, bool toEnd)
    {
        // Latin-1 maps every byte to one char and back: an 8-bit message passes unchanged, whatever its charset.
        using var reader = new StreamReader(stdin, Encoding.Latin1);
        var message = new StringBuilder();
        while (reader.ReadLine() is { } line)
        {
            if (!toEnd && line == ".")
            {
                break;
            }
            message.Append(line).Append("\r\n");
        }
        return Encoding.Latin1.GetBytes(message.ToString());
    }

    /// <summary>The addresses of To:, Cc: and Bcc:, and the message without its Bcc: headers.</summary>
    private static (byte[] Content, IReadOnlyList<string> Recipients) ExtractRecipients(byte[] content)
    {
        string text = Encoding.Latin1.GetString(content);
        int end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        string header = end < 0 ? text : text[..(end + 2)];
        string body = end < 0 ? "" : text[(end + 2)..];
        var recipients = new List<string>();
        var kept = new StringBuilder();
        // One field and its continuation lines at a time.
        foreach (string field in System.Text.RegularExpressions.Regex.Split(header, @"\r\n(?![ \t])").Where(f => f.Length > 0))
        {
            int colon = field.IndexOf(':');
            string name = colon < 0 ? "" : field[..colon].Trim();
            if (name.Equals("To", StringComparison.OrdinalIgnoreCase) || name.Equals("Cc", StringComparison.OrdinalIgnoreCase)
                || name.Equals("Bcc", StringComparison.OrdinalIgnoreCase))
            {
                if (InternetAddressList.TryParse(field[(colon + 1)..].Replace("\r\n", ""), out var list))
                {
                    // The header was read as Latin-1 (byte for byte); an address is UTF-8 again.
                    recipients.AddRange(list.Mailboxes.Select(m => Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(m.Address))));
                }
            }
            if (!name.Equals("Bcc", StringComparison.OrdinalIgnoreCase))
            {
                kept.Append(field).Append("\r\n");
            }
        }
        return (Encoding.Latin1.GetBytes(kept + body), recipients);
    }

    private static int Fatal(TextWriter stderr, string message, int status)
    {
        stderr.WriteLine($"sendmail: fatal: {message}");
        return status;
    }
}
