using Edge.Logging;

namespace Edge.Tables.Remote;

/// <summary>
/// A table a server answers (socketmap, tcp, and the databases and directories). Answers are kept a short while
/// (<see cref="TableCache"/>); a lookup takes at most edge_table_timeout, and one that gets no usable answer fails
/// (<see cref="TableLookupException"/>), which defers the mail: it never rejects or permits by accident. In a session's
/// checks a lookup not answered yet is fetched by the session without holding a thread (<see cref="TableAnswers"/>);
/// elsewhere (cleanup, delivery, postmap) the caller waits for it.
/// </summary>
internal abstract class RemoteTable(string reference, TableSettings settings) : ILookupTable
{
    private readonly TableCache _cache = new(settings);

    /// <summary>The "type:name" the table was opened as, for log lines.</summary>
    public string Reference { get; } = reference;

    protected TableSettings Settings { get; } = settings;

    public virtual bool IsPattern => false;

    public bool IsRemote => true;

    public string? Lookup(string key)
    {
        if (TableAnswers.Current is { } answers)
        {
            return answers.TryGet(this, key, out string? answer) || _cache.TryGet(key, out answer) ? answer
                : throw new LookupPendingException(this, key);
        }
        return _cache.TryGet(key, out string? value) ? value : LookupAsync(key, CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    public async ValueTask<string?> LookupAsync(string key, CancellationToken cancellationToken)
    {
        if (_cache.TryGet(key, out string? cached))
        {
            return cached;
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Settings.Timeout);
        string? value;
        try
        {
            value = await QueryAsync(key, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Failed($"no answer within {Settings.Timeout.TotalSeconds}s");
        }
        catch (Exception e) when (e is not (TableLookupException or OperationCanceledException))
        {
            // Whatever a client library throws (a socket's error, a reply it cannot read, a value it cannot convert) is
            // a lookup that could not be answered.
            throw Failed(e.Message);
        }
        _cache.Add(key, value);
        return value;
    }

    /// <summary>The server's answer for <paramref name="key"/>; IO and protocol exceptions are failures of the lookup.</summary>
    protected abstract Task<string?> QueryAsync(string key, CancellationToken cancellationToken);

    /// <summary>A failure, logged as Postfix logs it: "table type:name lookup error: reason".</summary>
    protected TableLookupException Failed(string reason, bool configuration = false)
    {
        var failure = new TableLookupException(Reference, reason, configuration);
        MailLog.Warning(failure.Message);
        return failure;
    }
}
