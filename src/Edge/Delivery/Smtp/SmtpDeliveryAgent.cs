namespace Edge.Delivery.Smtp;

/// <summary>
/// Postfix's smtp(8) and lmtp(8): delivers one message to one destination over SMTP or LMTP, reusing idle
/// connections between deliveries. Remote behaviour never throws: every failure becomes outcomes.
/// </summary>
internal sealed class SmtpDeliveryAgent : IAsyncDisposable
{
    private readonly ConnectionCache _cache = new();

    /// <summary>
    /// Delivers to the first server that takes the session. Connection failure, a 4xx/5xx greeting, a refused
    /// EHLO/HELO/LHLO or missing required TLS moves on to the next server, as Postfix does; once MAIL FROM was
    /// sent, that server's outcome stands. When no server takes the session, every recipient gets the last
    /// server's reason. Throws only <see cref="OperationCanceledException"/>, for the caller's cancellation.
    /// </summary>
    public async Task<IReadOnlyList<RecipientOutcome>> DeliverAsync(DeliveryRequest request, IReadOnlyList<NextHopServer> servers,
        SmtpClientOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return await DeliverToFirstTakerAsync(request, servers, options, cancellationToken);
        }
        catch (Exception e) when (cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
        {
            // Cancelling a read can surface as the stream's IOException; the caller hears what happened.
            throw new OperationCanceledException("delivery cancelled", e, cancellationToken);
        }
    }

    private async Task<IReadOnlyList<RecipientOutcome>> DeliverToFirstTakerAsync(DeliveryRequest request,
        IReadOnlyList<NextHopServer> servers, SmtpClientOptions options, CancellationToken cancellationToken)
    {
        if (request.Recipients.Count == 0)
        {
            return [];
        }
        var results = new RecipientResults(request.Recipients);
        SessionFailure failure = new(RecipientStatus.Deferred, "4.4.1", "no mail server to deliver to", "none");
        foreach (NextHopServer server in servers)
        {
            string key = ConnectionCache.KeyOf(server, options);
            SmtpClientSession? session = await ReuseAsync(key, options, cancellationToken);
            SmtpTlsLevel tls = options.TlsLevel;
            while (session is null)
            {
                (session, SessionFailure? refused) = await SessionOpener.OpenAsync(server, options, tls, cancellationToken);
                if (refused is null)
                {
                    break;
                }
                failure = refused;
                if (!refused.RetryPlaintext)
                {
                    break;
                }
                tls = SmtpTlsLevel.None;
            }
            if (session is null)
            {
                continue;
            }
            bool inStep;
            try
            {
                inStep = await MailTransaction.RunAsync(session, request, options, results, cancellationToken);
            }
            catch
            {
                await session.DisposeAsync();
                throw;
            }
            await ReleaseAsync(key, session, inStep, options);
            return results.ToList();
        }
        results.DecideRemaining(failure.Status, failure.Dsn, failure.Reason, failure.Relay);
        return results.ToList();
    }

    /// <summary>
    /// A cached connection that still answers RSET (Postfix resets a cached connection before it reuses it);
    /// one that does not is closed, and the next one tried.
    /// </summary>
    private async Task<SmtpClientSession?> ReuseAsync(string key, SmtpClientOptions options, CancellationToken cancellationToken)
    {
        while (_cache.Take(key) is { } session)
        {
            using var stage = new StageDeadline(cancellationToken);
            stage.Start(options.RsetTimeout);
            try
            {
                if ((await session.CommandAsync("RSET", stage.Token)).IsPositive)
                {
                    return session;
                }
            }
            catch (Exception e) when (SmtpClientSession.IsTransportFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                // The server closed it while it was idle: an ordinary end of a cached connection.
            }
            catch
            {
                await session.DisposeAsync();
                throw;
            }
            await session.DisposeAsync();
        }
        return null;
    }

    private async Task ReleaseAsync(string key, SmtpClientSession session, bool inStep, SmtpClientOptions options)
    {
        if (!inStep)
        {
            await session.DisposeAsync();
        }
        else if (options.ConnectionCacheTimeLimit <= TimeSpan.Zero
            || (options.ConnectionReuseTimeLimit > TimeSpan.Zero && session.Age >= options.ConnectionReuseTimeLimit)
            || !_cache.Put(key, session, options.ConnectionCacheTimeLimit, options.QuitTimeout))
        {
            await session.QuitAsync(options.QuitTimeout);
        }
    }

    /// <summary>Closes the idle connections with QUIT.</summary>
    public ValueTask DisposeAsync() => _cache.DisposeAsync();
}
