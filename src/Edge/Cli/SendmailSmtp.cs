using System.Text;
using Edge.Cleanup;

namespace Edge.Cli;

/// <summary>
/// sendmail -bs: SMTP on standard input and output for a local program, as Postfix's stand-alone smtpd speaks it.
/// As there, the user is trusted as with sendmail itself (no relay or access checks: the message goes to the maildrop
/// as sendmail's would); each accepted message is one maildrop file. HELO, EHLO, MAIL, RCPT, DATA, RSET, NOOP and QUIT;
/// lines may end in CRLF or LF.
/// </summary>
internal sealed class SendmailSmtp(string myHostname, string banner, Func<MaildropFile, string> drop)
{
    private string? _sender;
    private readonly List<string> _recipients = [];

    public async Task RunAsync(Stream input, Stream output)
    {
        // Latin-1 maps every byte to one char and back: an 8-bit message passes unchanged, whatever its charset.
        using var reader = new StreamReader(input, Encoding.Latin1);
        await using var writer = new StreamWriter(output, new UTF8Encoding(false)) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync($"220 {banner}");
        while (await reader.ReadLineAsync() is { } line)
        {
            string command = line.Length >= 4 ? line[..4].ToUpperInvariant() : line.ToUpperInvariant();
            string argument = line.Length > 4 ? line[4..].Trim() : "";
            switch (command)
            {
                case "EHLO":
                    await writer.WriteLineAsync($"250-{myHostname}\r\n250-PIPELINING\r\n250 8BITMIME");
                    break;
                case "HELO":
                    await writer.WriteLineAsync($"250 {myHostname}");
                    break;
                case "MAIL":
                    await writer.WriteLineAsync(Mail(argument));
                    break;
                case "RCPT":
                    await writer.WriteLineAsync(Rcpt(argument));
                    break;
                case "DATA" when _sender is null || _recipients.Count == 0:
                    await writer.WriteLineAsync(_sender is null ? "503 5.5.1 Error: need MAIL command" : "503 5.5.1 Error: need RCPT command");
                    break;
                case "DATA":
                    await writer.WriteLineAsync("354 End data with <CR><LF>.<CR><LF>");
                    byte[]? content = await ReadDataAsync(reader);
                    if (content is null)
                    {
                        return;
                    }
                    string name = drop(new MaildropFile(_sender!, null, [.. _recipients], content));
                    Reset();
                    await writer.WriteLineAsync($"250 2.0.0 Ok: queued as maildrop/{name}");
                    break;
                case "RSET":
                    Reset();
                    await writer.WriteLineAsync("250 2.0.0 Ok");
                    break;
                case "NOOP":
                    await writer.WriteLineAsync("250 2.0.0 Ok");
                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 2.0.0 Bye");
                    return;
                default:
                    await writer.WriteLineAsync("502 5.5.2 Error: command not recognized");
                    break;
            }
        }
    }

    private string Mail(string argument)
    {
        if (_sender is not null)
        {
            return "503 5.5.1 Error: nested MAIL command";
        }
        if (Address(argument, "FROM:") is not { } sender)
        {
            return "501 5.5.4 Syntax: MAIL FROM:<address>";
        }
        _sender = sender;
        return "250 2.1.0 Ok";
    }

    private string Rcpt(string argument)
    {
        if (_sender is null)
        {
            return "503 5.5.1 Error: need MAIL command";
        }
        if (Address(argument, "TO:") is not { Length: > 0 } recipient)
        {
            return "501 5.5.4 Syntax: RCPT TO:<address>";
        }
        _recipients.Add(recipient);
        return "250 2.1.5 Ok";
    }

    /// <summary>The address of "FROM:&lt;a@b&gt; params" or "TO:a@b"; null for a line that has none.</summary>
    private static string? Address(string argument, string keyword)
    {
        if (!argument.StartsWith(keyword, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        // The line was read as Latin-1 (byte for byte); an address is UTF-8 again.
        string rest = Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(argument[keyword.Length..].Trim()));
        if (rest.StartsWith('<'))
        {
            int close = rest.IndexOf('>');
            return close < 0 ? null : rest[1..close];
        }
        string bare = rest.Split(' ', 2)[0];
        return bare.Length > 0 ? bare : null;
    }

    /// <summary>The message up to the line with one ".", dot-unstuffed, with CRLF line ends; null when the input ends first.</summary>
    private static async Task<byte[]?> ReadDataAsync(StreamReader reader)
    {
        var message = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line == ".")
            {
                return Encoding.Latin1.GetBytes(message.ToString());
            }
            message.Append(line.StartsWith('.') ? line[1..] : line).Append("\r\n");
        }
        return null;
    }

    private void Reset()
    {
        _sender = null;
        _recipients.Clear();
    }
}
