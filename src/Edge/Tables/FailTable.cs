using Edge.Logging;

namespace Edge.Tables;

/// <summary>
/// A table every lookup of which fails, as a table whose server is down would: fail:name (Postfix's dict_fail, to
/// test what a failure does), and what stands in for a table that could not be opened, as Postfix's surrogate table
/// does, so that the lookups that would have reached it are deferred and those another table answers first are not.
/// </summary>
internal sealed class FailTable(string reference, string reason) : ILookupTable
{
    public string? Lookup(string key)
    {
        MailLog.Warning($"{reference} lookup error for \"{key}\"");
        throw new TableLookupException(reference, reason);
    }
}
