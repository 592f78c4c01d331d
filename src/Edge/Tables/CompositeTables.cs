namespace Edge.Tables;

/// <summary>
/// unionmap:{type:name, …}: every table is asked, and what they all found is joined with commas (nothing found,
/// nothing); as Postfix's dict_union.
/// </summary>
internal sealed class UnionTable(IReadOnlyList<ILookupTable> tables) : ILookupTable
{
    /// <summary>As Postfix's dict_union takes its flags from its first table: a union of cidr: tables matches whole strings.</summary>
    public bool IsPattern => tables[0].IsPattern;

    public bool IsRemote => tables.Any(table => table.IsRemote);

    public string? Lookup(string key)
    {
        List<string>? found = null;
        foreach (ILookupTable table in tables)
        {
            if (table.Current.Lookup(key) is { } value)
            {
                (found ??= []).Add(value);
            }
        }
        return found is null ? null : string.Join(',', found);
    }

    public async ValueTask<string?> LookupAsync(string key, CancellationToken cancellationToken)
    {
        List<string>? found = null;
        foreach (ILookupTable table in tables)
        {
            if (await table.Current.LookupAsync(key, cancellationToken) is { } value)
            {
                (found ??= []).Add(value);
            }
        }
        return found is null ? null : string.Join(',', found);
    }
}

/// <summary>
/// pipemap:{type:name, …}: each table's result is the next table's key, and the last one's is the answer; a table that
/// finds nothing ends the pipeline without one; as Postfix's dict_pipe.
/// </summary>
internal sealed class PipeTable(IReadOnlyList<ILookupTable> tables) : ILookupTable
{
    public bool IsPattern => tables[0].IsPattern;

    public bool IsRemote => tables.Any(table => table.IsRemote);

    public string? Lookup(string key)
    {
        string? value = key;
        foreach (ILookupTable table in tables)
        {
            value = table.Current.Lookup(value!);
            if (value is null)
            {
                return null;
            }
        }
        return value;
    }

    public async ValueTask<string?> LookupAsync(string key, CancellationToken cancellationToken)
    {
        string? value = key;
        foreach (ILookupTable table in tables)
        {
            value = await table.Current.LookupAsync(value!, cancellationToken);
            if (value is null)
            {
                return null;
            }
        }
        return value;
    }
}

/// <summary>randmap:{result, …}: any key finds one of the results, chosen at random (to spread mail over relays).</summary>
internal sealed class RandomTable(IReadOnlyList<string> results) : ILookupTable
{
    /// <summary>Any key finds a result, so the shortened keys of an access check would find one too: asked once, as Postfix's dict_random is.</summary>
    public bool IsPattern => true;

    public string? Lookup(string key) => results[Random.Shared.Next(results.Count)];
}

/// <summary>
/// internal:name: Postfix's in-memory table of one process, which only its own daemons write: main.cf cannot fill it,
/// so every lookup finds nothing.
/// </summary>
internal sealed class EmptyTable : ILookupTable
{
    public static readonly EmptyTable Instance = new();

    public string? Lookup(string key) => null;
}
