using System.Globalization;
using Npgsql;

namespace Edge.Tables.Sql;

/// <summary>
/// pgsql:/etc/postfix/users.cf (pgsql_table(5)): hosts (host, host:port, inet:host:port, unix:/socket/directory; tried
/// in turn, a host that fails avoided for a while), user, password, dbname and the query; every column of every row is
/// a result. Connections are pooled (at most edge_table_connection_limit) and every lookup is bounded by
/// edge_table_timeout. A server that cannot be reached or fails the query defers the mail.
/// </summary>
internal sealed class PgsqlTable : SqlTable
{
    private readonly NpgsqlDataSource _source;

    private PgsqlTable(string reference, TableConfigFile file, TableSettings settings, NpgsqlDataSource source, string? legacyQuery)
        : base(reference, file, settings, legacyQuery) => _source = source;

    /// <exception cref="TableException">The file is wrong.</exception>
    public static PgsqlTable Open(string reference, string name, TableSettings settings)
    {
        TableConfigFile file = TableConfigFile.Read(name, [.. CommonSettings, "hosts", "user", "password", "dbname", "select_function"]);
        string dbname = file.Get("dbname") is { Length: > 0 } db ? db : throw file.Error("dbname", "not set");
        var hosts = new List<string>();
        foreach (string host in file.Get("hosts", "localhost").Split([' ', '\t', ',', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (host.StartsWith("postgresql:", StringComparison.Ordinal))
            {
                throw file.Error("hosts", $"{host}: Edge does not take postgresql:// connection URIs yet; give host:port and the user, password and dbname settings");
            }
            hosts.Add(host.StartsWith("unix:", StringComparison.Ordinal) || host.StartsWith("inet:", StringComparison.Ordinal) ? host[5..] : host);
        }
        var connection = new NpgsqlConnectionStringBuilder
        {
            Host = string.Join(',', hosts),
            Database = dbname,
            Username = file.Get("user", ""),
            Password = file.Get("password", ""),
            MaxPoolSize = settings.ConnectionLimit,
            Timeout = Math.Max(1, (int)Math.Min(settings.Timeout.TotalSeconds, 1024)),
            CommandTimeout = 0,
            LoadBalanceHosts = hosts.Count > 1,
            HostRecheckSeconds = 60,
            ApplicationName = "edge",
        };
        string? legacy = file.Get("query") is null && file.Get("select_function") is { } function ? $"SELECT {function}('%s')" : null;
        return new PgsqlTable(reference, file, settings, NpgsqlDataSource.Create(connection), legacy);
    }

    protected override async Task<IReadOnlyList<string?>> SelectAsync(Func<Func<string, string>, string> query, CancellationToken cancellationToken)
    {
        try
        {
            await using NpgsqlConnection connection = await _source.OpenConnectionAsync(cancellationToken);
            // As PQescapeStringConn(): a quote doubled, and a backslash too where the server does not take it literally.
            bool literalBackslash = connection.PostgreSqlVersion.Major >= 9
                && connection.PostgresParameters.GetValueOrDefault("standard_conforming_strings") != "off";
            await using var command = new NpgsqlCommand(query(text => Quote(text, literalBackslash)), connection);
            await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
            var values = new List<string?>();
            while (await reader.ReadAsync(cancellationToken))
            {
                for (int i = 0; i < reader.FieldCount; i++)
                {
                    // As PQgetvalue(): a NULL is an empty value (which the expansion warns about and skips).
                    values.Add(reader.IsDBNull(i) ? "" : Text(reader.GetValue(i)));
                }
            }
            return values;
        }
        catch (NpgsqlException e) when (e is not PostgresException || e.IsTransient)
        {
            throw Failed(e.Message);
        }
        catch (PostgresException e)
        {
            throw Failed(e.MessageText);
        }
    }

    private static string Quote(string text, bool literalBackslash) =>
        literalBackslash ? text.Replace("'", "''") : text.Replace("\\", "\\\\").Replace("'", "''");

    /// <summary>A value as PostgreSQL's text output gives it.</summary>
    private static string Text(object value) => value switch
    {
        bool b => b ? "t" : "f",
        byte[] bytes => "\\x" + Convert.ToHexStringLower(bytes),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
