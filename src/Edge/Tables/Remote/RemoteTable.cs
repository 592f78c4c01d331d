using System.Diagnostics;
using Edge.Logging;
using Edge.Metrics;

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
        TableAnswers? answers = TableAnswers.Current;
        if (answers is not null && answers.TryGet(this, key, out string? fetched))
        {
            return fetched;
        }
        if (_cache.TryGet(key, out string? cached))
        {
            // Kept with the check's answers, so that the check run again (after a lookup it waited for) or the work a
            // prefetch asked ahead for takes it from there: one lookup, counted once.
            answers?.Keep(this, key, cached);
            return Counted(cached);
        }
        return answers is not null && !TableAnswers.WaitsForMissing ? throw new LookupPendingException(this, key)
            : AskAsync(key, "server_blocking", CancellationToken.None).AsTask().GetAwaiter().GetResult();
    }

    public ValueTask<string?> LookupAsync(string key, CancellationToken cancellationToken) =>
        _cache.TryGet(key, out string? cached) ? new(Counted(cached)) : AskAsync(key, "server", cancellationToken);

    /// <param name="source">How the lookup waited, for edge.table.lookups: "server_blocking" when a thread waited.</param>
    private async ValueTask<string?> AskAsync(string key, string source, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        string? value;
        try
        {
            value = await QueryInTimeAsync(key, cancellationToken);
        }
        catch (TableLookupException)
        {
            Count("failed", source);
            throw;
        }
        EdgeMetrics.TableDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, EdgeMetrics.Tag("table", Reference));
        _cache.Add(key, value);
        Count(value is null ? "notfound" : "found", source);
        return value;
    }

    /// <summary>The server's answer within edge_table_timeout; whatever stops it is a failure of the lookup.</summary>
    private async Task<string?> QueryInTimeAsync(string key, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Settings.Timeout);
        try
        {
            return await QueryAsync(key, deadline.Token);
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
    }

    private string? Counted(string? cached)
    {
        Count(cached is null ? "notfound" : "found", "cache");
        return cached;
    }

    private void Count(string result, string source) => EdgeMetrics.TableLookups.Add(1,
        EdgeMetrics.Tag("table", Reference), EdgeMetrics.Tag("result", result), EdgeMetrics.Tag("source", source));

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
