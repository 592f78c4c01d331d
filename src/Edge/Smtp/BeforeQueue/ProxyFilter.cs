using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Edge.Logging;
using Edge.Mail;
using Edge.Net;

namespace Edge.Smtp.BeforeQueue;

/// <summary>
/// One transaction handed to a before-queue content filter (Postfix's smtpd_proxy.c): Edge connects when the first
/// recipient is accepted, greets the filter, replays MAIL FROM, passes each RCPT TO and DATA, then streams the content
/// to it (Received: header first, dot-stuffed) and gives the client the filter's reply to the final dot. Nothing is
/// queued by this session: the filter passes the message on (to an after-filter listener) or refuses it. A filter that
/// cannot be reached or stops answering gets the client "451 4.3.0 Error: queue file write error", as in Postfix.
/// </summary>
internal sealed class ProxyFilter : IContentSink, IAsyncDisposable
{
    public const string Failure = "451 4.3.0 Error: queue file write error";

    private readonly ProxyFilterSettings _settings;
    private readonly Stream _stream;
    private readonly PipeWriter _output;
    private readonly StreamReader _input;
    private bool _lineStart = true;

    private ProxyFilter(ProxyFilterSettings settings, Stream stream)
    {
        _settings = settings;
        _stream = stream;
        _output = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        _input = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
    }

    /// <summary>Content could not be passed on; the message gets <see cref="Failure"/> at its end.</summary>
    public bool Broken { get; private set; }

    /// <summary>
    /// Connects, reads the greeting, says EHLO, tells a filter that offers XFORWARD who the client is, and replays
    /// <paramref name="mailFrom"/>. Returns the filter, or null with the reply for the client: the filter's own refusal
    /// of MAIL FROM, or <see cref="Failure"/>.
    /// </summary>
    public static async Task<(ProxyFilter? Filter, string Reply)> OpenAsync(ProxyFilterSettings settings, ProxyClient client,
        string mailFrom, CancellationToken cancellationToken)
    {
        ProxyFilter? filter = null;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(settings.Timeout);
            filter = new ProxyFilter(settings, await ServiceEndpoint.ConnectAsync(settings.Endpoint, timeout.Token));
            string ehlo = "";
            if (!(await filter.ReadReplyAsync(cancellationToken)).StartsWith('2')
                || !(ehlo = await filter.CommandAsync($"EHLO {settings.EhloName}", cancellationToken)).StartsWith('2')
                || (XforwardCommand(ehlo, client) is { } xforward && !(await filter.CommandAsync(xforward, cancellationToken)).StartsWith('2')))
            {
                await filter.DisposeAsync();
                return (null, Failure);
            }
            string reply = await filter.CommandAsync(mailFrom, cancellationToken);
            if (reply.StartsWith('2'))
            {
                return (filter, reply);
            }
            await filter.DisposeAsync();
            return (null, reply);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            MailLog.Warning($"connect to proxy filter {settings.Name}: {(e is OperationCanceledException ? "Connection timed out" : e.Message)}");
            if (filter is not null)
            {
                await filter.DisposeAsync();
            }
            return (null, Failure);
        }
    }

    /// <summary>
    /// XFORWARD with the client's attributes the filter's EHLO reply names (Postfix's XFORWARD_README), or null when it
    /// offers none; a value Edge does not know is "[UNAVAILABLE]".
    /// </summary>
    private static string? XforwardCommand(string ehlo, ProxyClient client)
    {
        string? offered = ehlo.Split("\r\n").Select(line => line.Length > 4 ? line[4..] : "")
            .FirstOrDefault(line => line.StartsWith("XFORWARD", StringComparison.OrdinalIgnoreCase));
        if (offered is null)
        {
            return null;
        }
        var names = new HashSet<string>(offered.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1), StringComparer.OrdinalIgnoreCase);
        (string Name, string? Value)[] attributes =
        [
            ("NAME", client.Name), ("ADDR", client.Address), ("PORT", client.Port), ("PROTO", client.Protocol),
            ("HELO", client.Helo), ("SOURCE", "REMOTE"),
        ];
        string[] sent = [.. attributes.Where(a => names.Contains(a.Name))
            .Select(a => $"{a.Name}={(a.Value is { Length: > 0 } value ? Protocol.XText.Encode(value) : "[UNAVAILABLE]")}")];
        return sent.Length == 0 ? null : "XFORWARD " + string.Join(' ', sent);
    }

    /// <summary>Sends a command and returns the filter's reply (lines joined by CRLF), or <see cref="Failure"/> when it does not answer.</summary>
    public async Task<string> CommandAsync(string command, CancellationToken cancellationToken)
    {
        try
        {
            await WriteLineAsync(command, cancellationToken);
            return await ReadReplyAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Lost(e);
            return Failure;
        }
    }

    /// <summary>Message content, dot-stuffed as it goes; sent by <see cref="FlushAsync"/>.</summary>
    public void Write(ReadOnlySpan<byte> content)
    {
        if (Broken)
        {
            return;
        }
        while (!content.IsEmpty)
        {
            if (_lineStart && content[0] == '.')
            {
                _output.Write("."u8);
            }
            int lf = content.IndexOf((byte)'\n');
            ReadOnlySpan<byte> piece = lf < 0 ? content : content[..(lf + 1)];
            _output.Write(piece);
            _lineStart = lf >= 0;
            content = content[piece.Length..];
        }
    }

    /// <summary>Sends the content written so far; a filter that stops taking it breaks the transaction, not the session.</summary>
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (Broken || _output.UnflushedBytes == 0)
        {
            return;
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_settings.Timeout);
            await _output.FlushAsync(timeout.Token);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Lost(e);
        }
    }

    /// <summary>The end of the content: the final dot, and the filter's reply for the client.</summary>
    public async Task<string> EndAsync(CancellationToken cancellationToken)
    {
        if (!Broken)
        {
            // The terminator itself is not content: it goes out unstuffed.
            _output.Write(_lineStart ? ".\r\n"u8 : "\r\n.\r\n"u8);
        }
        await FlushAsync(cancellationToken);
        if (Broken)
        {
            return Failure;
        }
        try
        {
            return await ReadReplyAsync(cancellationToken);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Lost(e);
            return Failure;
        }
    }

    private void Lost(Exception e)
    {
        Broken = true;
        MailLog.Warning(e is OperationCanceledException ? $"timeout talking to proxy {_settings.Name}" : $"lost connection with proxy {_settings.Name}");
    }

    private async Task WriteLineAsync(string line, CancellationToken cancellationToken)
    {
        _output.Write(Encoding.UTF8.GetBytes(line + "\r\n"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.Timeout);
        await _output.FlushAsync(timeout.Token);
    }

    /// <summary>One reply, all its lines: "250-…" lines continue, "250 …" ends it.</summary>
    private async Task<string> ReadReplyAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.Timeout);
        var reply = new StringBuilder();
        while (true)
        {
            string line = await _input.ReadLineAsync(timeout.Token) ?? throw new IOException("the proxy filter closed the connection");
            if (line.Length < 3 || !char.IsAsciiDigit(line[0]))
            {
                throw new IOException($"malformed reply from the proxy filter: {line}");
            }
            reply.Append(line);
            if (line.Length == 3 || line[3] != '-')
            {
                return reply.ToString();
            }
            reply.Append("\r\n");
        }
    }

    /// <summary>QUIT, best effort, and the connection closed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!Broken)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await WriteLineAsync("QUIT", timeout.Token);
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
            }
        }
        _input.Dispose();
        await _stream.DisposeAsync();
    }
}
