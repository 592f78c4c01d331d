using System.Net;
using System.Text;
using Edge.Logging;
using Edge.Net;

namespace Edge.Tables.Remote;

/// <summary>
/// tcp:host:port: Postfix's tcp_table(5) protocol. The request is "get KEY" and the reply "200 VALUE" (found), "500 …"
/// (not found) or "400 …" (try again later), each one line with %XX for bytes that are not printable, white space
/// or "%". A server that cannot be reached or says something else is asked again, a second apart, up to ten times,
/// as Postfix's dict_tcp does.
/// </summary>
internal sealed class TcpTable : RemoteTable
{
    /// <summary>As Postfix's DICT_TCP_MAXLEN and DICT_TCP_MAXTRY.</summary>
    private const int MaxReply = 4096;
    private const int MaxTries = 10;

    private readonly string _server;
    private readonly TableConnections _connections;

    private TcpTable(string reference, string server, TableConnections connections, TableSettings settings) : base(reference, settings)
    {
        _server = server;
        _connections = connections;
    }

    public override bool IsPattern => true;

    public static TcpTable? Open(string reference, string name, TableSettings settings, out string? error)
    {
        if (name.StartsWith("unix:", StringComparison.Ordinal) || ServiceEndpoint.Parse(name, "/") is not { } endpoint)
        {
            error = "expected tcp:host:port";
            return null;
        }
        error = null;
        return new TcpTable(reference, name, new TableConnections(endpoint, settings.ConnectionLimit), settings);
    }

    protected override async Task<string?> QueryAsync(string key, CancellationToken cancellationToken)
    {
        byte[] request = Encoding.ASCII.GetBytes($"get {Quote(key)}\n");
        for (int tries = 1; ; tries++)
        {
            try
            {
                string reply = await _connections.UseAsync(async connection =>
                {
                    await connection.WriteAsync(request, cancellationToken);
                    return await connection.ReadLineAsync(MaxReply, cancellationToken);
                }, cancellationToken);
                return Answer(reply);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ProtocolViolationException && tries < MaxTries)
            {
                MailLog.Warning(e is System.Net.Sockets.SocketException ? $"connect to TCP map {_server}: {e.Message}"
                    : $"read TCP map reply from {_server}: {e.Message}");
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    private string? Answer(string reply)
    {
        if (reply.Length < 4 || !char.IsAsciiDigit(reply[0]) || !char.IsAsciiDigit(reply[1]) || !char.IsAsciiDigit(reply[2])
            || !char.IsWhiteSpace(reply[3]) || Unquote(reply.AsSpan(4)) is not { } text)
        {
            throw Failed($"read TCP map reply from {_server}: malformed reply: {Printable.Escape(Encoding.UTF8.GetBytes(reply))}");
        }
        return reply[0] switch
        {
            '2' => text,
            '5' => null,
            '4' => throw Failed($"{_server}: {text}"),
            _ => throw Failed($"read TCP map reply from {_server}: bad status code: {Printable.Escape(Encoding.UTF8.GetBytes(reply))}"),
        };
    }

    /// <summary>Postfix's hex_quote(): %XX for "%", white space and what is not printable ASCII.</summary>
    private static string Quote(string key)
    {
        var quoted = new StringBuilder(key.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(key))
        {
            if (b != '%' && b > ' ' && b < 0x7f)
            {
                quoted.Append((char)b);
            }
            else
            {
                quoted.Append('%').Append(b.ToString("X2"));
            }
        }
        return quoted.ToString();
    }

    /// <summary>Postfix's hex_unquote(); null when a "%" is not followed by two hex digits.</summary>
    private static string? Unquote(ReadOnlySpan<char> text)
    {
        var bytes = new List<byte>(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '%')
            {
                bytes.Add((byte)text[i]);
                continue;
            }
            if (i + 2 >= text.Length || !byte.TryParse(text.Slice(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
            {
                return null;
            }
            bytes.Add(b);
            i += 2;
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }
}
