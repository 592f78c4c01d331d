namespace Edge.Tables;

/// <summary>A Postfix lookup table (type:name): a key in, a value or nothing out. Keys are case-insensitive.</summary>
internal interface ILookupTable
{
    /// <summary>The value for <paramref name="key"/>, or null when the table has none.</summary>
    /// <exception cref="TableLookupException">The table cannot answer now; the caller defers.</exception>
    /// <exception cref="LookupPendingException">
    /// In a session's checks (<see cref="TableAnswers"/>), a remote table whose answer is not there yet.
    /// </exception>
    string? Lookup(string key);

    /// <summary>As <see cref="Lookup"/>, waiting for a remote table's server without holding a thread.</summary>
    ValueTask<string?> LookupAsync(string key, CancellationToken cancellationToken) => new(Current.Lookup(key));

    /// <summary>
    /// A pattern table (regexp:, cidr:) matches whole strings: access checks query it once with the whole
    /// address or name, not with the parent domains, address prefixes and "user@" forms that they try
    /// one by one in other tables (access(5)).
    /// </summary>
    bool IsPattern => false;

    /// <summary>A server answers it (or one of its members): a lookup may have to wait for the network.</summary>
    bool IsRemote => false;

    /// <summary>The table as it is now: itself, or for a table read again when its file changes, its latest reading.</summary>
    ILookupTable Current => this;
}
