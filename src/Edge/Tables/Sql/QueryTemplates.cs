using System.Text;
using Edge.Logging;

namespace Edge.Tables.Sql;

/// <summary>
/// The query and result_format templates of the SQL and LDAP tables, as Postfix's db_common expands them: %s the key,
/// %u its local part (the whole key when it has no domain), %d its domain, %1 … %9 the domain's labels from the right,
/// %% a percent sign. A key that lacks what the query needs (%d without a domain, %u with an empty local part, fewer
/// labels than %N) is not looked up at all. In result_format, lower-case letters take the result apart and upper-case
/// %S %U %D the key.
/// </summary>
internal sealed class QueryTemplates
{
    private readonly string[] _queries;
    private readonly string _result;
    private readonly string _table;
    private bool _keyDomain;
    private bool _keyUser;
    private bool _valueDomain;
    private bool _valueUser;
    private int _parts;

    private QueryTemplates(string table, string[] queries, string result)
    {
        _table = table;
        _queries = queries;
        _result = result;
    }

    /// <exception cref="TableException">A template has a % sequence that means nothing.</exception>
    public static QueryTemplates Parse(TableConfigFile file, string table, string query, string resultFormat) =>
        Parse(file, table, [("query", query)], resultFormat);

    /// <summary>Templates of several query-side settings (LDAP's search_base and query_filter), whose needs add up.</summary>
    /// <exception cref="TableException">A template has a % sequence that means nothing.</exception>
    public static QueryTemplates Parse(TableConfigFile file, string table, (string Name, string Template)[] queries, string resultFormat)
    {
        var templates = new QueryTemplates(table, [.. queries.Select(q => q.Template)], resultFormat);
        foreach ((string name, string template) in queries)
        {
            templates.Scan(file, name, template, isQuery: true);
        }
        templates.Scan(file, "result_format", resultFormat, isQuery: false);
        return templates;
    }

    /// <summary>Whether <paramref name="template"/> expands anything: a search base that does depends on the key.</summary>
    public static bool IsDynamic(string template) => template.Replace("%%", "").Contains('%');

    private void Scan(TableConfigFile file, string name, string format, bool isQuery)
    {
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%')
            {
                continue;
            }
            char c = ++i < format.Length ? format[i] : '\0';
            switch (c)
            {
                case '%' or 's' or 'S':
                    break;
                case 'u':
                    _ = isQuery ? _keyUser = true : _valueUser = true;
                    break;
                case 'd':
                    _ = isQuery ? _keyDomain = true : _valueDomain = true;
                    break;
                case 'U':
                    _keyUser = true;
                    break;
                case >= '1' and <= '9':
                    _parts = Math.Max(_parts, c - '0');
                    _keyDomain = true;
                    break;
                case 'D':
                    _keyDomain = true;
                    break;
                default:
                    throw file.Error(name, $"Invalid {(isQuery ? "query" : "result")} template: {format}");
            }
        }
    }

    /// <summary>
    /// The query (the <paramref name="index"/>th query-side template) for <paramref name="key"/>, each expansion through
    /// <paramref name="quote"/>; null when the key is not to be looked up.
    /// </summary>
    public string? Query(string key, Func<string, string> quote, int index = 0)
    {
        if (key.Length == 0)
        {
            MailLog.Warning($"table \"{_table}\": empty query string -- ignored");
            return null;
        }
        int at = key.LastIndexOf('@');
        string? domain = _keyDomain || _keyUser ? (at < 0 ? null : key[(at + 1)..]) : null;
        if ((string.IsNullOrEmpty(domain) && _keyDomain) || (at == 0 && _keyUser) || Labels(domain) is not { } labels)
        {
            return null;
        }
        var query = new StringBuilder(_queries[index].Length + key.Length);
        Expand(query, _queries[index], key, domain, key, domain, labels, quote);
        return query.ToString();
    }

    /// <summary>
    /// Adds <paramref name="value"/>, one value a query returned, to <paramref name="result"/> (comma-separated) as
    /// result_format makes it; false when it adds nothing (no value, an empty one, or one without what the format needs).
    /// </summary>
    public bool AddResult(StringBuilder result, string? value, string key)
    {
        if (value is null)
        {
            return false;
        }
        if (value.Length == 0)
        {
            MailLog.Warning($"table \"{_table}\": empty lookup result for: \"{key}\" -- ignored");
            return false;
        }
        int at = value.LastIndexOf('@');
        string? domain = _valueDomain || _valueUser ? (at < 0 ? null : value[(at + 1)..]) : null;
        if ((string.IsNullOrEmpty(domain) && _valueDomain) || (at == 0 && _valueUser))
        {
            return false;
        }
        int keyAt = key.LastIndexOf('@');
        string? keyDomain = _keyDomain || _keyUser ? (keyAt < 0 ? null : key[(keyAt + 1)..]) : null;
        if ((string.IsNullOrEmpty(keyDomain) && _keyDomain) || (keyAt == 0 && _keyUser) || Labels(keyDomain) is not { } labels)
        {
            MailLog.Warning($"db_common_expand: {_table}: lookup key '{value}' skipped after query");
            return false;
        }
        if (result.Length > 0)
        {
            result.Append(',');
        }
        Expand(result, _result, value, domain, key, keyDomain, labels, static text => text);
        return true;
    }

    /// <summary>The domain's labels when %1 … %9 need them (enough of them); empty when they are not needed; null when too few.</summary>
    private string[]? Labels(string? domain)
    {
        if (_parts == 0)
        {
            return [];
        }
        string[] labels = (domain ?? "").Split('.', StringSplitOptions.RemoveEmptyEntries);
        return labels.Length < _parts ? null : labels;
    }

    private static void Expand(StringBuilder into, string format, string value, string? domain, string key, string? keyDomain,
        string[] labels, Func<string, string> quote)
    {
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%')
            {
                into.Append(format[i]);
                continue;
            }
            char c = format[++i];
            into.Append(c switch
            {
                '%' => "%",
                's' => quote(value),
                'u' => quote(domain is null ? value : value[..(value.Length - domain.Length - 1)]),
                'd' => quote(domain!),
                'S' => quote(key),
                'U' => quote(keyDomain is null ? key : key[..(key.Length - keyDomain.Length - 1)]),
                'D' => quote(keyDomain!),
                _ => quote(labels[labels.Length - (c - '0')]),
            });
        }
    }
}
