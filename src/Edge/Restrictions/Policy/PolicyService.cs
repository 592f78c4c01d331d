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
    private readonly EndPoint _endpoint;
    private readonly PolicyServiceSettings _settings;
    private readonly ConcurrentBag<PolicyConnection> _idle = [];

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
            PolicyConnection? connection = TakeIdle();
            bool reused = connection is not null;
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(_settings.Timeout);
                connection ??= new PolicyConnection(await ServiceEndpoint.ConnectAsync(_endpoint, deadline.Token));
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

    private PolicyConnection? TakeIdle()
    {
        while (_idle.TryTake(out PolicyConnection? connection))
        {
            if (connection.IsFresh(_settings))
            {
                return connection;
            }
            connection.Dispose();
        }
        return null;
    }

    private void Release(PolicyConnection connection)
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
}
