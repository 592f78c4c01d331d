namespace Edge.Tables;

/// <summary>static:value — every key finds the same value.</summary>
internal sealed class StaticTable(string value) : ILookupTable
{
    public string? Lookup(string key) => value;
}
