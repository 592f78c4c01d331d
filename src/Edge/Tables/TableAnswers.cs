namespace Edge.Tables;

/// <summary>
/// The answers of tables that a server answers (<see cref="Remote.RemoteTable"/>), fetched for one SMTP session's
/// restriction checks. The checks run synchronously; one that meets such a table without its answer here (or in the
/// table's cache) stops with <see cref="LookupPendingException"/>, the session fetches the answer without holding a
/// thread, and checks again. Only code that catches that exception enters a scope (<see cref="Enter"/>): elsewhere a
/// remote table's caller waits for its answer.
/// </summary>
internal sealed class TableAnswers
{
    [ThreadStatic]
    private static TableAnswers? t_current;

    /// <summary>Made with the first answer: most sessions' tables are files, which never wait.</summary>
    private Dictionary<(ILookupTable Table, string Key), (string? Value, TableLookupException? Failure)>? _answers;

    /// <summary>The answers of the check running on this thread; null outside one.</summary>
    public static TableAnswers? Current => t_current;

    /// <summary>Makes <paramref name="answers"/> the current ones until the scope ends.</summary>
    public static Scope Enter(TableAnswers? answers)
    {
        TableAnswers? previous = t_current;
        t_current = answers;
        return new Scope(previous);
    }

    /// <summary>The answer fetched for <paramref name="key"/>; a failure fetched is thrown again.</summary>
    public bool TryGet(ILookupTable table, string key, out string? value)
    {
        if (_answers is null || !_answers.TryGetValue((table, key), out (string? Value, TableLookupException? Failure) answer))
        {
            value = null;
            return false;
        }
        if (answer.Failure is { } failure)
        {
            throw new TableLookupException(failure.Reference, failure.Reason, failure.Configuration);
        }
        value = answer.Value;
        return true;
    }

    /// <summary>Asks the table what the check waits for; a failure is kept as the answer, for the check to defer on.</summary>
    public async Task FetchAsync(LookupPendingException pending, CancellationToken cancellationToken)
    {
        (string? Value, TableLookupException? Failure) answer;
        try
        {
            answer = (await pending.Table.LookupAsync(pending.Key, cancellationToken), null);
        }
        catch (TableLookupException e)
        {
            answer = (null, e);
        }
        (_answers ??= [])[(pending.Table, pending.Key)] = answer;
    }

    /// <summary>Forgets the answers once a command's checks are done: the next command asks afresh (or the tables' caches answer).</summary>
    public void Clear() => _answers?.Clear();

    public readonly struct Scope(TableAnswers? previous) : IDisposable
    {
        public void Dispose() => t_current = previous;
    }
}

/// <summary>A check needs <see cref="Table"/>'s answer for <see cref="Key"/> before it can go on (<see cref="TableAnswers"/>).</summary>
internal sealed class LookupPendingException(ILookupTable table, string key) : Exception($"waiting for a lookup of {key}")
{
    public ILookupTable Table { get; } = table;
    public string Key { get; } = key;
}
