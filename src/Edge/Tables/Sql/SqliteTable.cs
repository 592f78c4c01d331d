using Microsoft.Data.Sqlite;

namespace Edge.Tables.Sql;

/// <summary>
/// sqlite:/etc/postfix/users.cf (sqlite_table(5)): dbpath, opened read-only, and the query; the first column of each
/// row is a result. A query SQLite cannot run is a configuration error (Postfix's sqlite client stops on it).
/// </summary>
internal sealed class SqliteTable : SqlTable
{
    private readonly string _connection;

    private SqliteTable(string reference, TableConfigFile file, TableSettings settings, string connection)
        : base(reference, file, settings) => _connection = connection;

    /// <exception cref="TableException">The file is wrong, or the database cannot be opened.</exception>
    public static SqliteTable Open(string reference, string name, TableSettings settings)
    {
        TableConfigFile file = TableConfigFile.Read(name, [.. CommonSettings, "dbpath"]);
        string path = file.Get("dbpath") is { Length: > 0 } dbpath ? dbpath : throw file.Error("dbpath", "not set");
        string connection = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly }.ToString();
        try
        {
            using var probe = new SqliteConnection(connection);
            probe.Open();
        }
        catch (SqliteException e)
        {
            throw file.Error("dbpath", $"cannot open {path}: {e.Message}");
        }
        return new SqliteTable(reference, file, settings, connection);
    }

    protected override async Task<IReadOnlyList<string?>> SelectAsync(Func<Func<string, string>, string> query, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new SqliteConnection(_connection);
            await connection.OpenAsync(cancellationToken);
            await using SqliteCommand command = connection.CreateCommand();
            // As sqlite3_mprintf("%q"): a quote in a key is doubled.
            command.CommandText = query(static text => text.Replace("'", "''"));
            await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
            var values = new List<string?>();
            while (await reader.ReadAsync(cancellationToken))
            {
                values.Add(reader.IsDBNull(0) ? null : reader.GetString(0));
            }
            return values;
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SQLitePCL.raw.SQLITE_ERROR)
        {
            throw Failed($"SQL prepare failed: {e.Message}", configuration: true);
        }
        catch (SqliteException e)
        {
            throw Failed($"SQL step failed: {e.Message}");
        }
    }
}
