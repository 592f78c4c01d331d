namespace Edge.Tables;

/// <summary>A Postfix lookup table (type:name): a key in, a value or nothing out. Keys are case-insensitive.</summary>
internal interface ILookupTable
{
    string? Lookup(string key);

    /// <summary>
    /// A pattern table (regexp:, cidr:) matches whole strings: access checks query it once with the whole
    /// address or name, not with the parent domains, address prefixes and "user@" forms that they try
    /// one by one in other tables (access(5)).
    /// </summary>
    bool IsPattern => false;

    /// <summary>The table as it is now: itself, or for a table read again when its file changes, its latest reading.</summary>
    ILookupTable Current => this;
}
