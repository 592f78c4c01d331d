using Edge.Config;
using Edge.Logging;

namespace Edge.Tables;

/// <summary>
/// A main.cf parameter that lists tables searched in order (alias_maps, local_recipient_maps …). A table that
/// cannot be opened does not stop start-up: it is logged, <see cref="Failure"/> says why, and in its place a
/// <see cref="FailTable"/> fails the lookups that reach it, as Postfix's surrogate table does: what an earlier table
/// answers is answered, what would have needed the missing one is deferred.
/// </summary>
internal sealed class TableList
{
    private readonly ILookupTable[] _tables;
    private readonly string[] _references;

    private TableList(ILookupTable[] tables, string[] references, string? failure)
    {
        _tables = tables;
        _references = references;
        Failure = failure;
    }

    public static TableList Empty { get; } = new([], [], null);

    /// <summary>The first table that could not be opened, as "parameter: type:name: reason"; null when all were.</summary>
    public string? Failure { get; }

    public bool IsEmpty => _tables.Length == 0;

    /// <summary>Whether a server answers one of the tables: a lookup may have to wait for the network.</summary>
    public bool IsRemote => _tables.Any(table => table.IsRemote);

    /// <summary>
    /// Opens the tables <paramref name="parameter"/> lists. Tables also named in alias_maps are read as aliases(5)
    /// files, since it is newaliases(1), not postmap(1), that would index them for Postfix.
    /// </summary>
    public static TableList Open(MainConfig config, string parameter)
    {
        IReadOnlyList<string> references = config.GetList(parameter);
        if (references.Count == 0)
        {
            return Empty;
        }
        IReadOnlyList<string> aliasMaps = config.GetList("alias_maps");
        var tables = new List<ILookupTable>(references.Count);
        var opened = new List<string>(references.Count);
        string? failure = null;
        foreach (string reference in references)
        {
            if (TableFactory.Open(reference, TableSettings.From(config), out string? error, aliases: aliasMaps.Contains(reference)) is { } table)
            {
                tables.Add(table);
                opened.Add(reference);
                continue;
            }
            string why = $"{parameter}: {reference}: {error ?? "cannot open"}";
            failure ??= why;
            MailLog.Warning($"{why}: lookups that this table might answer are deferred");
            tables.Add(new FailTable(reference, $"{reference} is unavailable: {error ?? "cannot open"}"));
            opened.Add(reference);
        }
        return new TableList([.. tables], [.. opened], failure);
    }

    /// <summary>
    /// As <see cref="Find(ReadOnlySpan{string}, out string?)"/>, waiting for a table a server answers without holding a
    /// thread: the value and the "type:name" of the table that answered.
    /// </summary>
    public async ValueTask<(string? Value, string? Reference)> FindAsync(string[] keys, CancellationToken cancellationToken)
    {
        foreach (string key in keys)
        {
            for (int i = 0; i < _tables.Length; i++)
            {
                if (await _tables[i].LookupAsync(key, cancellationToken) is { } value)
                {
                    return (value, _references[i]);
                }
            }
        }
        return (null, null);
    }

    /// <summary>The first table's value for the first of <paramref name="keys"/> that any table has, key by key.</summary>
    public string? Find(ReadOnlySpan<string> keys) => Find(keys, out _);

    /// <summary>As <see cref="Find(ReadOnlySpan{string})"/>, and the "type:name" of the table that answered.</summary>
    public string? Find(ReadOnlySpan<string> keys, out string? reference)
    {
        foreach (string key in keys)
        {
            for (int i = 0; i < _tables.Length; i++)
            {
                if (_tables[i].Lookup(key) is { } value)
                {
                    reference = _references[i];
                    return value;
                }
            }
        }
        reference = null;
        return null;
    }
}
