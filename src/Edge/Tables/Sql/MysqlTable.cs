using System.Globalization;
using System.Text;
using MySqlConnector;

namespace Edge.Tables.Sql;

/// <summary>
/// mysql:/etc/postfix/users.cf (mysql_table(5)), for MySQL and MariaDB: hosts (host, host:port, inet:host:port,
/// unix:/socket), user, password, dbname, the query and require_result_set; every column of every row is a result and
/// a NULL is no result. Connections are pooled (at most edge_table_connection_limit) and every lookup is bounded by
/// edge_table_timeout. The TLS and option_file settings are not implemented: start-up refuses them.
/// </summary>
internal sealed class MysqlTable : SqlTable
{
    private readonly MySqlDataSource _source;
    private readonly bool _requireResultSet;

    /// <summary>Whether the server takes a backslash in a string literally (sql_mode NO_BACKSLASH_ESCAPES), as last asked; asked again a minute on.</summary>
    private BackslashMode? _backslashes;

    private sealed record BackslashMode(bool Literal, long Asked);

    private MysqlTable(string reference, TableConfigFile file, TableSettings settings, MySqlDataSource source)
        : base(reference, file, settings)
    {
        _source = source;
        _requireResultSet = file.Get("require_result_set", "yes") is not ("no" or "false");
    }

    /// <exception cref="TableException">The file is wrong.</exception>
    public static MysqlTable Open(string reference, string name, TableSettings settings)
    {
        TableConfigFile file = TableConfigFile.Read(name, [.. CommonSettings, "hosts", "user", "password", "dbname", "require_result_set"]);
        string dbname = file.Get("dbname") is { Length: > 0 } db ? db : throw file.Error("dbname", "not set");
        var servers = new List<string>();
        string? socket = null;
        uint? port = null;
        foreach (string host in file.Get("hosts", "localhost").Split([' ', '\t', ',', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (host.StartsWith("unix:", StringComparison.Ordinal))
            {
                socket = host[5..];
                continue;
            }
            string address = host.StartsWith("inet:", StringComparison.Ordinal) ? host[5..] : host;
            int colon = address.LastIndexOf(':');
            uint given = 3306;
            if (colon > 0 && address.IndexOf(':') == colon && uint.TryParse(address[(colon + 1)..], out given))
            {
                address = address[..colon];
            }
            // MySqlConnector takes one port for all the servers of a connection.
            if (port is { } other && other != given)
            {
                throw file.Error("hosts", "Edge takes one port for all the hosts of a mysql table");
            }
            port = given;
            servers.Add(address);
        }
        if (socket is not null && servers.Count > 0)
        {
            throw file.Error("hosts", "Edge takes either unix: sockets or network hosts in one table, not both");
        }
        var connection = new MySqlConnectionStringBuilder
        {
            Server = socket ?? string.Join(',', servers),
            Port = port ?? 3306,
            ConnectionProtocol = socket is null ? MySqlConnectionProtocol.Sockets : MySqlConnectionProtocol.UnixSocket,
            Database = dbname,
            UserID = file.Get("user", ""),
            Password = file.Get("password", ""),
            MaximumPoolSize = (uint)settings.ConnectionLimit,
            ConnectionTimeout = (uint)Math.Max(1, Math.Min(settings.Timeout.TotalSeconds, 1024)),
            LoadBalance = MySqlLoadBalance.Random,
            SslMode = MySqlSslMode.None,
            CharacterSet = "utf8mb4",
        };
        return new MysqlTable(reference, file, settings, new MySqlDataSource(connection.ConnectionString));
    }

    protected override async Task<IReadOnlyList<string?>> SelectAsync(Func<Func<string, string>, string> query, CancellationToken cancellationToken)
    {
        try
        {
            await using MySqlConnection connection = await _source.OpenConnectionAsync(cancellationToken);
            bool literal = await LiteralBackslashesAsync(connection, cancellationToken);
            await using var command = new MySqlCommand(query(text => literal ? text.Replace("'", "''") : Quote(text)), connection);
            await using MySqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
            if (reader.FieldCount == 0 && _requireResultSet)
            {
                throw Failed("query returned no result set");
            }
            var values = new List<string?>();
            while (await reader.ReadAsync(cancellationToken))
            {
                for (int i = 0; i < reader.FieldCount; i++)
                {
                    values.Add(reader.IsDBNull(i) ? null : Text(reader.GetValue(i)));
                }
            }
            return values;
        }
        catch (MySqlException e)
        {
            throw Failed(e.Message);
        }
    }

    /// <summary>As mysql_real_escape_string() quotes, the server's sql_mode decides whether a backslash escapes.</summary>
    private async Task<bool> LiteralBackslashesAsync(MySqlConnection connection, CancellationToken cancellationToken)
    {
        if (_backslashes is { } known && Environment.TickCount64 - known.Asked < 60_000)
        {
            return known.Literal;
        }
        await using var command = new MySqlCommand("SELECT @@SESSION.sql_mode", connection);
        bool literal = (await command.ExecuteScalarAsync(cancellationToken))?.ToString()?.Contains("NO_BACKSLASH_ESCAPES", StringComparison.OrdinalIgnoreCase) ?? false;
        _backslashes = new BackslashMode(literal, Environment.TickCount64);
        return literal;
    }

    /// <summary>A value as MySQL's text protocol gives it (what Postfix's client reads).</summary>
    private static string Text(object value) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        DateTime time => time.ToString(time.TimeOfDay == TimeSpan.Zero && time.Kind == DateTimeKind.Unspecified ? "yyyy-MM-dd" : "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        bool b => b ? "1" : "0",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>As mysql_real_escape_string() with backslash escapes on.</summary>
    private static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            quoted.Append(c switch
            {
                '\0' => "\\0",
                '\n' => "\\n",
                '\r' => "\\r",
                '\\' => "\\\\",
                '\'' => "\\'",
                '"' => "\\\"",
                '\x1a' => "\\Z",
                _ => c.ToString(),
            });
        }
        return quoted.ToString();
    }
}
