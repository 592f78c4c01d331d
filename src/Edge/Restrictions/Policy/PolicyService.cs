using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Edge.Logging;
using Edge.Net;

namespace Edge.Restrictions.Policy;

/// <summary>The smtpd_policy_service_* settings of one configuration.</summary>
internal sealed record PolicyServiceSettings(TimeSpan Timeout, TimeSpan MaxIdle, TimeSpan MaxTtl, string DefaultAction,
    int RequestLimit, int TryLimit, TimeSpan RetryDelay, string QueueDirectory);

/// <summary>
/// check_policy_service: a policy server speaking Postfix's policy delegation protocol (postgrey,
/// policyd-spf …) over "inet:host:port" or "unix:/path" (relative to queue_directory, as Postfix's
/// "unix:private/policy"). Connections are kept for the next request up to smtpd_policy_service_max_idle and
/// _max_ttl (and _request_limit requests); a request that fails is tried again on a new connection
/// smtpd_policy_service_try_limit times, smtpd_policy_service_retry_delay apart, and then gets
/// smtpd_policy_service_default_action, as in Postfix.
/// </summary>
internal sealed class PolicyService : IPolicy
{
    /// <summary>An answer longer than this is not a policy server's.</summary>
    private const int MaxResponse = 64 * 1024;

    private readonly EndPoint _endpoint;
    private readonly PolicyServiceSettings _settings;
    private readonly ConcurrentBag<Connection> _idle = [];

    private PolicyService(string name, EndPoint endpoint, PolicyServiceSettings settings)
    {
        Name = name;
        _endpoint = endpoint;
        _settings = settings;
    }

    public string Name { get; }

    /// <summary>The service a reference names; null with the reason when it is not one Edge can reach.</summary>
    public static PolicyService? Parse(string reference, PolicyServiceSettings settings, out string? error)
    {
        error = null;
        if (ServiceEndpoint.Parse(reference, settings.QueueDirectory) is { } endpoint)
        {
            return new PolicyService(reference, endpoint, settings);
        }
        error = $"check_policy_service {reference}: expected inet:host:port or unix:/path";
        return null;
    }

    public async Task<string?> AskAsync(PolicyRequest request, CancellationToken cancellationToken)
    {
        byte[] query = Encoding.UTF8.GetBytes(request + "\n");
        for (int attempt = 1; ; attempt++)
        {
            Connection? connection = TakeIdle();
            bool reused = connection is not null;
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(_settings.Timeout);
                connection ??= await Connection.OpenAsync(_endpoint, deadline.Token);
                string action = await connection.AskAsync(query, deadline.Token);
                Release(connection);
                return action;
            }
            catch (Exception e) when (e is IOException or SocketException or ProtocolViolationException
                                          or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                connection?.Dispose();
                if (reused)
                {
                    // The server closed a kept connection while it was idle: that is no failure of the request.
                    attempt--;
                    continue;
                }
                string why = e is OperationCanceledException ? $"no answer within {_settings.Timeout.TotalSeconds}s" : e.Message;
                MailLog.Warning($"problem talking to server {Name}: {why}");
                if (attempt >= _settings.TryLimit)
                {
                    MailLog.Warning($"check_policy_service {Name}: giving up after {attempt} tries; default action \"{_settings.DefaultAction}\"");
                    return _settings.DefaultAction;
                }
                await Task.Delay(_settings.RetryDelay, cancellationToken);
            }
        }
    }

    private Connection? TakeIdle()
    {
        while (_idle.TryTake(out Connection? connection))
        {
            if (connection.IsFresh(_settings))
            {
                return connection;
            }
            connection.Dispose();
        }
        return null;
    }

    private void Release(Connection connection)
    {
        if (connection.IsFresh(_settings) && (_settings.RequestLimit <= 0 || connection.Requests < _settings.RequestLimit))
        {
            _idle.Add(connection);
        }
        else
        {
            connection.Dispose();
        }
    }

    /// <summary>One connection to the server: a request is attributes and an empty line, so is the answer.</summary>
    private sealed class Connection(NetworkStream stream) : IDisposable
    {
        private readonly NetworkStream _stream = stream;
        private readonly long _opened = Environment.TickCount64;
        private long _used = Environment.TickCount64;
        private readonly byte[] _buffer = new byte[4096];
        private int _start;
        private int _end;

        public int Requests { get; private set; }

        public static async Task<Connection> OpenAsync(EndPoint endpoint, CancellationToken cancellationToken)
        {
            return new Connection(await ServiceEndpoint.ConnectAsync(endpoint, cancellationToken));
        }

        public bool IsFresh(PolicyServiceSettings settings)
        {
            long now = Environment.TickCount64;
            return now - _used < settings.MaxIdle.TotalMilliseconds && now - _opened < settings.MaxTtl.TotalMilliseconds;
        }

        public async Task<string> AskAsync(byte[] query, CancellationToken cancellationToken)
        {
            await _stream.WriteAsync(query, cancellationToken);
            Requests++;
            string? action = null;
            int read = 0;
            while (await ReadLineAsync(cancellationToken) is { } line)
            {
                read += line.Length + 1;
                if (line.Length == 0)
                {
                    _used = Environment.TickCount64;
                    return action ?? throw new ProtocolViolationException("the answer has no action= attribute");
                }
                if (read > MaxResponse)
                {
                    throw new ProtocolViolationException($"an answer longer than {MaxResponse} bytes");
                }
                if (line.StartsWith("action=", StringComparison.Ordinal))
                {
                    action = line[7..];
                }
            }
            throw new IOException("the server closed the connection");
        }

        /// <summary>The next line without its newline; null at the end of the stream.</summary>
        private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newline >= 0)
                {
                    string line = Encoding.UTF8.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                    _start = newline + 1;
                    return line;
                }
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                if (_end == _buffer.Length)
                {
                    throw new ProtocolViolationException($"a line longer than {_buffer.Length} bytes");
                }
                int n = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
                if (n == 0)
                {
                    return null;
                }
                _end += n;
            }
        }

        public void Dispose() => _stream.Dispose();
    }
}
