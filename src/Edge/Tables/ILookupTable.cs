namespace Edge.Tables;

/// <summary>A Postfix lookup table (type:name): a key in, a value or nothing out. Keys are case-insensitive.</summary>
internal interface ILookupTable
{
    string? Lookup(string key);
}
