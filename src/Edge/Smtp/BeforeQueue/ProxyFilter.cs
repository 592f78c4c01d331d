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
/// With smtpd_proxy_options = speed_adjust the filter is connected only once the whole message has arrived: until then
/// the commands are kept and answered for it, and the content goes to a file in the queue directory (removed as soon
/// as it is opened); then all is replayed at the filter's speed, and its first refusal is the client's reply. A filter
/// must then refuse all recipients of a message or none, as Postfix documents.
/// </summary>
internal sealed class ProxyFilter : IContentSink, IAsyncDisposable
{
    public const string Failure = "451 4.3.0 Error: queue file write error";

    private readonly ProxyFilterSettings _settings;
    private Stream? _stream;
    private StreamReader? _input;
    private PipeWriter? _connection;

    /// <summary>Where content goes: the filter, or the speed-adjust file until the replay.</summary>
    private PipeWriter _output = null!;
    private bool _lineStart = true;

    /// <summary>speed_adjust: the file the content waits in, and the client, MAIL FROM and commands to replay.</summary>
    private readonly FileStream? _spool;
    private readonly ProxyClient? _client;
    private readonly string? _mailFrom;
    private readonly List<string> _commands = [];

    private ProxyFilter(ProxyFilterSettings settings) => _settings = settings;

    private ProxyFilter(ProxyFilterSettings settings, FileStream spool, ProxyClient client, string mailFrom)
    {
        _settings = settings;
        _spool = spool;
        _client = client;
        _mailFrom = mailFrom;
        _output = PipeWriter.Create(spool, new StreamPipeWriterOptions(leaveOpen: true));
    }

    /// <summary>Content could not be passed on; the message gets <see cref="Failure"/> at its end.</summary>
    public bool Broken { get; private set; }

    /// <summary>Whether commands are still being kept for a replay (speed_adjust, before the end of the message).</summary>
    private bool Deferred => _spool is not null && _stream is null;

    /// <summary>
    /// Connects, reads the greeting, says EHLO, tells a filter that offers XFORWARD who the client is, and replays
    /// <paramref name="mailFrom"/>; with speed_adjust, only sets the transaction aside. Returns the filter, or null with
    /// the reply for the client: the filter's own refusal of MAIL FROM, or <see cref="Failure"/>.
    /// </summary>
    public static async Task<(ProxyFilter? Filter, string Reply)> OpenAsync(ProxyFilterSettings settings, ProxyClient client,
        string mailFrom, CancellationToken cancellationToken)
    {
        if (settings.SpeedAdjustDirectory is { } directory)
        {
            try
            {
                string path = Path.Combine(directory, $"speed-adjust.{Guid.NewGuid():N}");
                var spool = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.Asynchronous);
                File.Delete(path);
                return (new ProxyFilter(settings, spool, client, mailFrom), "250 2.1.0 Ok");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                MailLog.Warning($"proxy speed-adjust log I/O error: {e.Message}");
                return (null, Failure);
            }
        }
        var filter = new ProxyFilter(settings);
        string reply = await filter.ConnectAsync(client, mailFrom, cancellationToken);
        if (reply.StartsWith('2'))
        {
            return (filter, reply);
        }
        await filter.DisposeAsync();
        return (null, reply);
    }

    /// <summary>The connection, the greeting, EHLO, XFORWARD and MAIL FROM: the filter's reply to MAIL FROM, or <see cref="Failure"/>.</summary>
    private async Task<string> ConnectAsync(ProxyClient client, string mailFrom, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_settings.Timeout);
            _stream = await ServiceEndpoint.ConnectAsync(_settings.Endpoint, timeout.Token);
            _input = new StreamReader(_stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
            _connection = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
            if (_spool is null)
            {
                _output = _connection;
            }
            string ehlo = "";
            if (!(await ReadReplyAsync(cancellationToken)).StartsWith('2')
                || !(ehlo = await CommandAsync($"EHLO {_settings.EhloName}", cancellationToken)).StartsWith('2')
                || (XforwardCommand(ehlo, client) is { } xforward && !(await CommandAsync(xforward, cancellationToken)).StartsWith('2')))
            {
                return Failure;
            }
            return await CommandAsync(mailFrom, cancellationToken);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            MailLog.Warning($"connect to proxy filter {_settings.Name}: {(e is OperationCanceledException ? "Connection timed out" : e.Message)}");
            return Failure;
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

    /// <summary>
    /// Sends a command and returns the filter's reply (lines joined by CRLF), or <see cref="Failure"/> when it does not
    /// answer; with speed_adjust, keeps it for the replay and answers for the filter.
    /// </summary>
    public async Task<string> CommandAsync(string command, CancellationToken cancellationToken)
    {
        if (Deferred)
        {
            _commands.Add(command);
            return command == "DATA" ? "354 End data with <CR><LF>.<CR><LF>" : "250 2.1.5 Ok";
        }
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
        if (_spool is not null && await ReplayAsync(cancellationToken) is { } refused)
        {
            return refused;
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

    /// <summary>
    /// speed_adjust: connects now, replays MAIL FROM, the recipients and DATA, and sends the kept content. Null when
    /// the filter took all of it; otherwise its first refusal (a 2xx or 3xx where another was due is <see cref="Failure"/>).
    /// </summary>
    private async Task<string?> ReplayAsync(CancellationToken cancellationToken)
    {
        string reply = await ConnectAsync(_client!, _mailFrom!, cancellationToken);
        if (!reply.StartsWith('2'))
        {
            return Refused(_mailFrom!, reply);
        }
        foreach (string command in _commands)
        {
            reply = await CommandAsync(command, cancellationToken);
            if (reply[0] != (command == "DATA" ? '3' : '2'))
            {
                return Refused(command, reply);
            }
        }
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_settings.Timeout);
            _spool!.Position = 0;
            await _spool.CopyToAsync(_stream!, timeout.Token);
            await _stream!.FlushAsync(timeout.Token);
            return null;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            Lost(e);
            return Failure;
        }
    }

    /// <summary>The filter's refusal of <paramref name="command"/>, logged, for the client; a 2xx or 3xx where another was due is not passed through, as in Postfix.</summary>
    public string Refused(string command, string reply)
    {
        if (reply != Failure)
        {
            MailLog.Warning($"proxy {_settings.Name} rejected \"{command}\": \"{reply}\"");
        }
        return reply[0] is '4' or '5' ? reply : Failure;
    }

    private void Lost(Exception e)
    {
        Broken = true;
        MailLog.Warning(Deferred ? $"proxy speed-adjust log I/O error: {e.Message}"
            : e is OperationCanceledException ? $"timeout talking to proxy {_settings.Name}" : $"lost connection with proxy {_settings.Name}");
    }

    private async Task WriteLineAsync(string line, CancellationToken cancellationToken)
    {
        PipeWriter connection = _connection!;
        connection.Write(Encoding.UTF8.GetBytes(line + "\r\n"));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.Timeout);
        await connection.FlushAsync(timeout.Token);
    }

    /// <summary>One reply, all its lines: "250-…" lines continue, "250 …" ends it.</summary>
    private async Task<string> ReadReplyAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_settings.Timeout);
        var reply = new StringBuilder();
        while (true)
        {
            string line = await _input!.ReadLineAsync(timeout.Token) ?? throw new IOException("the proxy filter closed the connection");
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

    /// <summary>QUIT, best effort, and the connection closed (and the speed-adjust file, which is gone with it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_spool is not null)
        {
            await _spool.DisposeAsync();
        }
        if (_stream is null)
        {
            return;
        }
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
        _input!.Dispose();
        await _stream.DisposeAsync();
    }
}
