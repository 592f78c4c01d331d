namespace Edge.Tables;

/// <summary>
/// The answers of tables that a server answers (<see cref="Remote.RemoteTable"/>), fetched for one SMTP session's
/// restriction checks. The checks run synchronously; one that meets such a table without its answer here (or in the
/// table's cache) stops with <see cref="LookupPendingException"/>, the session fetches the answer without holding a
/// thread, and checks again. Only code that catches that exception enters a scope (<see cref="Enter"/>): elsewhere a
/// remote table's caller waits for its answer. Work that cannot stop halfway (cleanup rewriting a header) asks what it
/// will need first, under <see cref="Enter"/>, then runs under <see cref="Use"/>, where an answer it lacks after all is
/// waited for (edge.table.lookups counts it as server_blocking) rather than thrown for.
/// </summary>
internal sealed class TableAnswers
{
    [ThreadStatic]
    private static TableAnswers? t_current;

    [ThreadStatic]
    private static bool t_waitsForMissing;

    /// <summary>Made with the first answer: most sessions' tables are files, which never wait.</summary>
    private Dictionary<(ILookupTable Table, string Key), (string? Value, TableLookupException? Failure)>? _answers;

    /// <summary>The answers of the check running on this thread; null outside one.</summary>
    public static TableAnswers? Current => t_current;

    /// <summary>Whether a lookup the current answers lack waits for the server (<see cref="Use"/>) instead of throwing.</summary>
    public static bool WaitsForMissing => t_waitsForMissing;

    /// <summary>
    /// Makes <paramref name="answers"/> the current ones until the scope ends: a lookup they lack throws
    /// <see cref="LookupPendingException"/>.
    /// </summary>
    public static Scope Enter(TableAnswers? answers) => Begin(answers, waitsForMissing: false);

    /// <summary>Makes <paramref name="answers"/> the current ones until the scope ends: a lookup they lack waits for its answer.</summary>
    public static Scope Use(TableAnswers? answers) => Begin(answers, waitsForMissing: true);

    private static Scope Begin(TableAnswers? answers, bool waitsForMissing)
    {
        var scope = new Scope(t_current, t_waitsForMissing);
        t_current = answers;
        t_waitsForMissing = waitsForMissing;
        return scope;
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

    /// <summary>An answer the table had at hand (its cache), for the lookups that follow in this scope.</summary>
    public void Keep(ILookupTable table, string key, string? value) => (_answers ??= [])[(table, key)] = (value, null);

    /// <summary>
    /// Runs <paramref name="ask"/> (work that only asks tables, changing nothing) until every answer it needs is here,
    /// fetching each one it waits for without holding a thread. Its result; default when a table cannot answer (the
    /// real work, run later with these answers, says so).
    /// </summary>
    public async ValueTask<T?> AskAheadAsync<T>(Func<T> ask, CancellationToken cancellationToken)
    {
        while (true)
        {
            LookupPendingException pending;
            using (Enter(this))
            {
                try
                {
                    return ask();
                }
                catch (LookupPendingException e)
                {
                    pending = e;
                }
                catch (TableLookupException)
                {
                    return default;
                }
            }
            await FetchAsync(pending, cancellationToken);
        }
    }

    /// <summary>Forgets the answers once a command's checks are done: the next command asks afresh (or the tables' caches answer).</summary>
    public void Clear() => _answers?.Clear();

    public readonly struct Scope(TableAnswers? previous, bool previousWaits) : IDisposable
    {
        public void Dispose()
        {
            t_current = previous;
            t_waitsForMissing = previousWaits;
        }
    }
}

/// <summary>A check needs <see cref="Table"/>'s answer for <see cref="Key"/> before it can go on (<see cref="TableAnswers"/>).</summary>
internal sealed class LookupPendingException(ILookupTable table, string key) : Exception($"waiting for a lookup of {key}")
{
    public ILookupTable Table { get; } = table;
    public string Key { get; } = key;
}
