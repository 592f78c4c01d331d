using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Edge.Logging;

namespace Edge.Smtp.Auth;

/// <summary>One mechanism the Dovecot auth server offers, with the properties its MECH line gave it.</summary>
internal sealed record SaslMechanism(string Name, SaslProperties Properties);

/// <summary>What a mechanism is (Dovecot's MECH properties), for smtpd_sasl_security_options to filter on.</summary>
[Flags]
internal enum SaslProperties
{
    None = 0,
    Plaintext = 1,
    Active = 2,
    Dictionary = 4,
    Anonymous = 8,
    ForwardSecrecy = 16,
    MutualAuth = 32,
    Private = 64,
}

/// <summary>Where an authentication stands after the auth server's reply.</summary>
internal enum SaslStatus
{
    /// <summary>Authenticated: <see cref="SaslReply.User"/> is the user.</summary>
    Done,
    /// <summary>The server wants another client response to <see cref="SaslReply.Text"/> (the challenge, base64).</summary>
    More,
    /// <summary>Refused: <see cref="SaslReply.Text"/> says why, or is empty.</summary>
    Fail,
    /// <summary>The auth server could not be asked or did not answer.</summary>
    Temporary,
}

internal readonly record struct SaslReply(SaslStatus Status, string Text, string? User, uint Id);

/// <summary>
/// A client of Dovecot's authentication protocol (smtpd_sasl_type = dovecot), as Postfix's xsasl_dovecot_server
/// speaks it: one connection per auth socket for the whole server, opened when first needed and again after it
/// breaks, with the VERSION/CPID handshake and the MECH list; every session's requests share it, told apart by
/// their request IDs, so no session holds a thread while Dovecot thinks (or delays a failure on purpose).
/// </summary>
internal sealed class DovecotAuthClient
{
    /// <summary>Postfix's AUTH_TIMEOUT: how long connecting and each reply may take.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static readonly ConcurrentDictionary<string, DovecotAuthClient> s_clients = new(StringComparer.Ordinal);

    private readonly string _path;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private Connection? _connection;
    private uint _requests;

    /// <summary>
    /// After a failed connection, sessions do not try again (and wait in turn) for this long: an auth server that is
    /// down or silent must not hold up every greeting.
    /// </summary>
    private static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(10);
    private long _failedUntil;

    private DovecotAuthClient(string path) => _path = path;

    /// <summary>The client of the auth socket <paramref name="path"/> (unix:/path, /path or inet:host:port), one per socket.</summary>
    public static DovecotAuthClient For(string path) => s_clients.GetOrAdd(path, p => new DovecotAuthClient(p));

    private sealed class Connection(Stream stream, IReadOnlyList<SaslMechanism> mechanisms)
    {
        public Stream Stream { get; } = stream;
        public IReadOnlyList<SaslMechanism> Mechanisms { get; } = mechanisms;
        public ConcurrentDictionary<uint, TaskCompletionSource<SaslReply>> Pending { get; } = new();
        public SemaphoreSlim Writing { get; } = new(1, 1);
        public volatile bool Broken;
    }

    /// <summary>The mechanisms the server offers; null (with Postfix's warning logged) when it cannot be reached.</summary>
    public async Task<IReadOnlyList<SaslMechanism>?> MechanismsAsync(CancellationToken cancellationToken) =>
        (await ConnectAsync(cancellationToken))?.Mechanisms;

    /// <summary>AUTH: the first request of an authentication, with the client's initial response (base64) if it gave one.</summary>
    public async Task<SaslReply> StartAsync(string mechanism, string service, string? initialResponse, bool secured, string localAddress,
        string remoteAddress, CancellationToken cancellationToken)
    {
        uint id = Interlocked.Increment(ref _requests);
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"AUTH\t{id}\t{mechanism}\tservice={service}\tnologin\tlip={localAddress}\trip={remoteAddress}");
        if (secured)
        {
            line.Append("\tsecured");
        }
        if (initialResponse is not null)
        {
            line.Append("\tresp=").Append(initialResponse);
        }
        return await RequestAsync(id, line.Append('\n').ToString(), cancellationToken);
    }

    /// <summary>CONT: the client's next response (base64) in authentication <paramref name="id"/>.</summary>
    public Task<SaslReply> ContinueAsync(uint id, string response, CancellationToken cancellationToken) =>
        RequestAsync(id, $"CONT\t{id.ToString(CultureInfo.InvariantCulture)}\t{response}\n", cancellationToken);

    private async Task<SaslReply> RequestAsync(uint id, string line, CancellationToken cancellationToken)
    {
        if (await ConnectAsync(cancellationToken) is not { } connection)
        {
            return new SaslReply(SaslStatus.Temporary, "Can't connect to authentication server", null, id);
        }
        var reply = new TaskCompletionSource<SaslReply>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Pending[id] = reply;
        try
        {
            await connection.Writing.WaitAsync(cancellationToken);
            try
            {
                await connection.Stream.WriteAsync(Encoding.UTF8.GetBytes(line), cancellationToken);
                await connection.Stream.FlushAsync(cancellationToken);
            }
            finally
            {
                connection.Writing.Release();
            }
            return await reply.Task.WaitAsync(Timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            // Only this request: the connection is every session's, and Dovecot delays some answers on purpose.
            return new SaslReply(SaslStatus.Temporary, "Connection lost to authentication server", null, id);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            Break(connection);
            return new SaslReply(SaslStatus.Temporary, "Connection lost to authentication server", null, id);
        }
        finally
        {
            connection.Pending.TryRemove(id, out _);
        }
    }

    private async Task<Connection?> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_connection is { Broken: false } open)
        {
            return open;
        }
        if (Environment.TickCount64 < Volatile.Read(ref _failedUntil))
        {
            return null;
        }
        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { Broken: false } again)
            {
                return again;
            }
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(Timeout);
            Socket? socket = null;
            Stream? stream = null;
            try
            {
                socket = await OpenSocketAsync(deadline.Token);
                stream = new NetworkStream(socket, ownsSocket: true);
                socket = null;
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"VERSION\t1\t1\nCPID\t{Environment.ProcessId}\n"), deadline.Token);
                var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
                if (await HandshakeAsync(reader, deadline.Token) is not { } mechanisms)
                {
                    await stream.DisposeAsync();
                    Volatile.Write(ref _failedUntil, Environment.TickCount64 + (long)RetryAfter.TotalMilliseconds);
                    return null;
                }
                var connection = new Connection(stream, mechanisms);
                _connection = connection;
                _ = ReadRepliesAsync(connection, reader);
                return connection;
            }
            catch (Exception e) when (e is IOException or SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                socket?.Dispose();
                stream?.Dispose();
                Volatile.Write(ref _failedUntil, Environment.TickCount64 + (long)RetryAfter.TotalMilliseconds);
                MailLog.Warning($"SASL: Connect to Dovecot auth socket '{_path}' failed: {(e is OperationCanceledException ? "timed out" : e.Message)}");
                return null;
            }
        }
        finally
        {
            _connecting.Release();
        }
    }

    private async Task<Socket> OpenSocketAsync(CancellationToken cancellationToken)
    {
        if (_path.StartsWith("inet:", StringComparison.Ordinal))
        {
            string target = _path[5..];
            int colon = target.LastIndexOf(':');
            var tcp = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await tcp.ConnectAsync(target[..colon].Trim('[', ']'), int.Parse(target[(colon + 1)..], CultureInfo.InvariantCulture), cancellationToken);
                return tcp;
            }
            catch
            {
                tcp.Dispose();
                throw;
            }
        }
        var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await unix.ConnectAsync(new UnixDomainSocketEndPoint(_path.StartsWith("unix:", StringComparison.Ordinal) ? _path[5..] : _path), cancellationToken);
            return unix;
        }
        catch
        {
            unix.Dispose();
            throw;
        }
    }

    /// <summary>The server's handshake up to DONE: its version must be 1, and it must list mechanisms (not an auth-master socket).</summary>
    private async Task<IReadOnlyList<SaslMechanism>?> HandshakeAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        var mechanisms = new List<SaslMechanism>();
        bool sawMech = false;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            string[] fields = line.Split('\t');
            switch (fields[0])
            {
                case "VERSION" when fields.Length >= 3:
                    if (fields[1] != "1")
                    {
                        MailLog.Warning($"SASL: Protocol version mismatch ({fields[1]} vs. 1)");
                        return null;
                    }
                    break;
                case "MECH" when fields.Length >= 2:
                    sawMech = true;
                    SaslProperties properties = Properties(fields.AsSpan(2));
                    if ((properties & SaslProperties.Private) == 0)
                    {
                        mechanisms.Add(new SaslMechanism(fields[1], properties));
                    }
                    break;
                case "SPID" when !sawMech:
                    MailLog.Warning("SASL: Connected to wrong auth socket (auth-master instead of auth-client)");
                    return null;
                case "DONE":
                    return mechanisms;
            }
        }
        MailLog.Warning($"SASL: Dovecot auth socket '{_path}' closed during the handshake");
        return null;
    }

    private static SaslProperties Properties(ReadOnlySpan<string> names)
    {
        var properties = SaslProperties.None;
        foreach (string name in names)
        {
            properties |= name.ToLowerInvariant() switch
            {
                "plaintext" => SaslProperties.Plaintext,
                "active" => SaslProperties.Active,
                "dictionary" => SaslProperties.Dictionary,
                "anonymous" => SaslProperties.Anonymous,
                "forward-secrecy" => SaslProperties.ForwardSecrecy,
                "mutual-auth" => SaslProperties.MutualAuth,
                "private" => SaslProperties.Private,
                _ => SaslProperties.None,
            };
        }
        return properties;
    }

    /// <summary>Hands each OK, CONT or FAIL to the request it answers, until the connection ends.</summary>
    private async Task ReadRepliesAsync(Connection connection, StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                string[] fields = line.Split('\t');
                if (fields.Length < 2 || !uint.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out uint id)
                    || !connection.Pending.TryGetValue(id, out TaskCompletionSource<SaslReply>? pending))
                {
                    continue;
                }
                pending.TrySetResult(fields[0] switch
                {
                    "OK" => User(fields) is { } user ? new SaslReply(SaslStatus.Done, "", user, id)
                        : Missing("OK username", id),
                    "CONT" => fields.Length >= 3 ? new SaslReply(SaslStatus.More, fields[2], null, id) : Missing("CONT reply", id),
                    "FAIL" => new SaslReply(SaslStatus.Fail, Argument(fields, "reason=") ?? "", User(fields), id),
                    _ => new SaslReply(SaslStatus.Temporary, "Authentication backend error", null, id),
                });
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // Broken below, as at the end of the stream.
        }
        Break(connection);
    }

    private static SaslReply Missing(string what, uint id)
    {
        MailLog.Warning($"missing Dovecot server {what} field");
        return new SaslReply(SaslStatus.Fail, "Authentication backend error", null, id);
    }

    private static string? User(string[] fields) => Argument(fields, "user=") is { } user ? Printable.Text(user) : null;

    private static string? Argument(string[] fields, string name) =>
        fields.Skip(2).FirstOrDefault(f => f.StartsWith(name, StringComparison.Ordinal)) is { } field ? Printable.Text(field[name.Length..]) : null;

    /// <summary>The connection is done for: waiting requests hear so, and the next one connects again.</summary>
    private void Break(Connection connection)
    {
        connection.Broken = true;
        foreach (TaskCompletionSource<SaslReply> pending in connection.Pending.Values)
        {
            pending.TrySetResult(new SaslReply(SaslStatus.Temporary, "Connection lost to authentication server", null, 0));
        }
        connection.Stream.Dispose();
    }
}
