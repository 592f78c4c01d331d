using System.Text;
using Edge.Tables.Remote;

namespace Edge.Tables.Sql;

/// <summary>
/// What the SQL tables (pgsql:, mysql:, sqlite:) share, as their Postfix manual pages describe them: the query with its
/// expansions, result_format, domain and expansion_limit. The key is folded to lower case, as Postfix folds the keys
/// of fixed-string tables; each value the query returns (each column of each row) becomes one comma-separated result.
/// </summary>
internal abstract class SqlTable : RemoteTable
{
    /// <summary>The settings every SQL table takes (with the old table, select_field, where_field and additional_conditions form of the query).</summary>
    protected static readonly string[] CommonSettings =
        ["query", "result_format", "domain", "expansion_limit", "table", "select_field", "where_field", "additional_conditions"];

    private readonly QueryTemplates _templates;
    private readonly DomainFilter? _domains;
    private readonly int _expansionLimit;

    protected SqlTable(string reference, TableConfigFile file, TableSettings settings, string? legacyQuery = null)
        : base(reference, settings)
    {
        string query = file.Get("query") ?? legacyQuery ?? LegacyQuery(file);
        _templates = QueryTemplates.Parse(file, reference, query, file.Get("result_format", "%s"));
        _domains = DomainFilter.Parse(file, settings);
        _expansionLimit = file.GetInt("expansion_limit", 0);
    }

    /// <summary>Postfix's db_common_sql_build_query(): "SELECT select_field FROM table WHERE where_field='%s' additional_conditions".</summary>
    private static string LegacyQuery(TableConfigFile file)
    {
        string Required(string name) => file.Get(name) ?? throw file.Error("query", $"not set, and neither is {name} to build it from");
        return $"SELECT {Required("select_field")} FROM {Required("table")} WHERE {Required("where_field")}='%s' {file.Get("additional_conditions", "")}";
    }

    protected sealed override async Task<string?> QueryAsync(string key, CancellationToken cancellationToken)
    {
        key = key.ToLowerInvariant();
        // A key the domain list or the query's expansions rule out is never sent to the server.
        if ((_domains is not null && !_domains.Allows(key)) || _templates.Query(key, static text => text) is null)
        {
            return null;
        }
        var result = new StringBuilder();
        int expansions = 0;
        foreach (string? value in await SelectAsync(quote => _templates.Query(key, quote)!, cancellationToken))
        {
            if (_templates.AddResult(result, value, key) && _expansionLimit > 0 && ++expansions > _expansionLimit)
            {
                throw Failed($"Expansion limit exceeded for key: '{key}'");
            }
        }
        return result.Length == 0 ? null : result.ToString();
    }

    /// <summary>
    /// Runs the query <paramref name="query"/> makes with the connection's quoting, and returns every value of every row,
    /// null for a NULL the database drops silently.
    /// </summary>
    protected abstract Task<IReadOnlyList<string?>> SelectAsync(Func<Func<string, string>, string> query, CancellationToken cancellationToken);
}
