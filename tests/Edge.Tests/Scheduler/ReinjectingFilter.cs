using System.Net.Sockets;
using System.Text;
using Edge.Tests.Support;

namespace Edge.Tests.Scheduler;

/// <summary>
/// A content filter as amavisd-new behaves in Postfix's recipes (after the queue, or before it as smtpd_proxy_filter):
/// an SMTP server on 127.0.0.1 that takes each message, adds "X-Filtered: by the test filter" and re-injects it by SMTP
/// into Edge's re-injection listener, answering its own client only with the re-injection's reply (so a message is
/// never lost between the two), or refuses it when <see cref="Verdict"/> says so.
/// </summary>
public sealed class ReinjectingFilter(int reinjectPort, int port = 0) : LoopbackServer(port)
{
    /// <summary>A reply that refuses the message instead of re-injecting it, or null to pass it on; decided on its content.</summary>
    public Func<string, string?> Verdict { get; set; } = _ => null;

    /// <summary>A reply that refuses a recipient, or null to take it; decided on its address.</summary>
    public Func<string, string?> RecipientVerdict { get; set; } = _ => null;

    /// <summary>Every command line it received, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Commands { get; } = new();

    /// <summary>How many messages it re-injected.</summary>
    public int Filtered => _filtered;

    private int _filtered;

    protected override async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            NetworkStream stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.UTF8);
            async Task Say(string line) => await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\r\n"), Stopping);
            await Say("220 filter.test ESMTP test filter");
            string sender = "";
            var recipients = new List<string>();
            try
            {
                while (await reader.ReadLineAsync(Stopping) is { } line)
                {
                    Commands.Enqueue(line);
                    string verb = line.Split(' ')[0].ToUpperInvariant();
                    switch (verb)
                    {
                        case "HELO":
                            await Say("250 filter.test");
                            break;
                        case "EHLO":
                            await Say("250-filter.test\r\n250 XFORWARD NAME ADDR PORT PROTO HELO SOURCE");
                            break;
                        case "MAIL":
                            sender = Address(line);
                            recipients.Clear();
                            await Say("250 2.1.0 Ok");
                            break;
                        case "RCPT":
                            if (RecipientVerdict(Address(line)) is { } refusal)
                            {
                                await Say(refusal);
                                break;
                            }
                            recipients.Add(Address(line));
                            await Say("250 2.1.5 Ok");
                            break;
                        case "DATA":
                            await Say("354 End data with <CR><LF>.<CR><LF>");
                            var content = new StringBuilder("X-Filtered: by the test filter\r\n");
                            while (await reader.ReadLineAsync(Stopping) is { } data && data != ".")
                            {
                                content.Append(data).Append("\r\n");
                            }
                            await Say(Verdict(content.ToString()) ?? await ReinjectAsync(sender, recipients, content.ToString()));
                            break;
                        case "QUIT":
                            await Say("221 2.0.0 Bye");
                            return;
                        default:
                            await Say("250 2.0.0 Ok");
                            break;
                    }
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>The message (still dot-stuffed as it came) into Edge's re-injection listener; its reply is the filter's.</summary>
    private async Task<string> ReinjectAsync(string sender, List<string> recipients, string content)
    {
        await using var edge = await SmtpConnection.OpenAsync(reinjectPort);
        await edge.CommandAsync("EHLO filter.test");
        string reply = await edge.CommandAsync($"MAIL FROM:<{sender}>");
        foreach (string recipient in recipients)
        {
            reply = reply.StartsWith('2') ? await edge.CommandAsync($"RCPT TO:<{recipient}>") : reply;
        }
        reply = reply.StartsWith('2') ? await edge.CommandAsync("DATA") : reply;
        if (!reply.StartsWith('3'))
        {
            return reply.StartsWith('2') ? "451 4.3.0 re-injection went wrong" : reply;
        }
        reply = await edge.CommandAsync(content + ".");
        if (reply.StartsWith('2'))
        {
            Interlocked.Increment(ref _filtered);
        }
        await edge.CommandAsync("QUIT");
        return reply;
    }

    private static string Address(string line) => line[(line.IndexOf('<') + 1)..line.IndexOf('>')];
}
