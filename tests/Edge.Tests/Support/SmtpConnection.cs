using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Edge.Tests.Support;

/// <summary>
/// A raw SMTP client over a real socket, for tests that must send exactly the bytes they mean (bare LFs,
/// pipelined groups, smuggling attempts) and read every reply line. Every read has a deadline.
/// </summary>
public sealed class SmtpConnection : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly TcpClient _client;
    private Stream _stream;
    private readonly List<byte> _pending = [];

    private SmtpConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<SmtpConnection> OpenAsync(int port, bool readGreeting = true, string host = "127.0.0.1")
    {
        var client = new TcpClient();
        await client.ConnectAsync(host, port);
        var connection = new SmtpConnection(client);
        if (readGreeting)
        {
            string greeting = await connection.ReadReplyAsync();
            Assert.StartsWith("220 ", greeting);
        }
        return connection;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Sends one command line (CRLF added) and returns the whole reply.</summary>
    public async Task<string> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>EHLO, MAIL FROM and RCPT TO, each of which must succeed: how most test transactions begin.</summary>
    public async Task EnvelopeAsync(string from = "sender@example.org", string to = "postmaster@localhost")
    {
        Assert.StartsWith("250-", await CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await CommandAsync($"MAIL FROM:<{from}>"));
        Assert.Equal("250 2.1.5 Ok", await CommandAsync($"RCPT TO:<{to}>"));
    }

    /// <summary>
    /// One whole message from sender@example.org on a connection of its own, every recipient accepted; the
    /// <paramref name="content"/> goes after DATA as it is (CRLF line ends, no final dot). Returns the queue ID.
    /// </summary>
    public static async Task<string> SendMessageAsync(int port, string content, params string[] recipients)
    {
        await using var c = await OpenAsync(port);
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        foreach (string recipient in recipients)
        {
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync($"RCPT TO:<{recipient}>"));
        }
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        return (await c.CommandAsync(content + "\r\n.")).Split(' ')[^1];
    }

    /// <summary>
    /// One message to one recipient with ESMTP parameters on MAIL FROM and RCPT TO (DSN's RET, ENVID, NOTIFY,
    /// ORCPT), both of which must be accepted. Returns the queue ID.
    /// </summary>
    public static async Task<string> SendWithParametersAsync(int port, string sender, string mailParameters,
        string recipient, string rcptParameters, string content)
    {
        await using var c = await OpenAsync(port);
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.StartsWith("250", await c.CommandAsync($"MAIL FROM:<{sender}> {mailParameters}"));
        Assert.StartsWith("250", await c.CommandAsync($"RCPT TO:<{recipient}> {rcptParameters}"));
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        return (await c.CommandAsync(content + "\r\n.")).Split(' ')[^1];
    }

    /// <summary>Sends a BDAT command with exactly <paramref name="chunk"/> as its data and returns the reply.</summary>
    public async Task<string> BdatAsync(string chunk, bool last = false)
    {
        byte[] data = Encoding.UTF8.GetBytes(chunk);
        await SendAsync([.. Encoding.ASCII.GetBytes($"BDAT {data.Length}{(last ? " LAST" : "")}\r\n"), .. data]);
        return await ReadReplyAsync();
    }

    /// <summary>Reads one reply, all its lines joined with "\n" (without CRLF).</summary>
    public async Task<string> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            string? line = await ReadLineAsync();
            if (line is null)
            {
                throw new IOException($"connection closed while reading a reply; got: {string.Join("|", lines)}");
            }
            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
            {
                return string.Join("\n", lines);
            }
        }
    }

    /// <summary>True when the server closed the connection (after reading anything still pending).</summary>
    public async Task<bool> IsClosedAsync()
    {
        try
        {
            while (await ReadLineAsync() is not null)
            {
            }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>Everything the server sends until it closes or goes quiet for <paramref name="quiet"/>.</summary>
    public async Task<string> ReadAvailableAsync(TimeSpan quiet)
    {
        var text = new StringBuilder();
        byte[] buffer = new byte[4096];
        text.Append(Encoding.UTF8.GetString(_pending.ToArray()));
        _pending.Clear();
        while (true)
        {
            using var cts = new CancellationTokenSource(quiet);
            try
            {
                int n = await _stream.ReadAsync(buffer, cts.Token);
                if (n == 0)
                {
                    return text.ToString();
                }
                text.Append(Encoding.UTF8.GetString(buffer, 0, n));
            }
            catch (OperationCanceledException)
            {
                return text.ToString();
            }
            catch (IOException)
            {
                return text.ToString();
            }
        }
    }

    /// <summary>The TLS handshake, as client of mx.edge.test (any server certificate taken), optionally with a client certificate.</summary>
    public async Task StartTlsAsync(X509Certificate2? clientCertificate = null, SslProtocols protocols = SslProtocols.None)
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "mx.edge.test",
            EnabledSslProtocols = protocols,
            ClientCertificates = clientCertificate is null ? null : [clientCertificate],
        });
        _stream = ssl;
    }

    private async Task<string?> ReadLineAsync()
    {
        byte[] chunk = new byte[4096];
        using var cts = new CancellationTokenSource(Deadline);
        while (true)
        {
            int lf = _pending.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                string line = Encoding.UTF8.GetString(_pending.GetRange(0, lf).ToArray()).TrimEnd('\r');
                _pending.RemoveRange(0, lf + 1);
                return line;
            }
            int n;
            try
            {
                n = await _stream.ReadAsync(chunk, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no reply within {Deadline.TotalSeconds}s; partial: {Encoding.UTF8.GetString(_pending.ToArray())}");
            }
            if (n == 0)
            {
                return null;
            }
            _pending.AddRange(chunk.AsSpan(0, n));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }
}
