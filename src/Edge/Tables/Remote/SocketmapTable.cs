using System.Text;
using Edge.Logging;
using Edge.Net;

namespace Edge.Tables.Remote;

/// <summary>
/// socketmap:inet:host:port:name or socketmap:unix:/path:name: Sendmail's socketmap protocol, as Postfix's
/// dict_sockmap speaks it. The request is the netstring "name key"; the reply "OK value" finds, "NOTFOUND " does
/// not, "TEMP", "TIMEOUT" or anything else is a failure to try again later, and "PERM" a configuration error.
/// </summary>
internal sealed class SocketmapTable : RemoteTable
{
    /// <summary>As Postfix's DICT_SOCKMAP_DEF_MAX_REPLY.</summary>
    private const int MaxReply = 100_000;

    private readonly string _name;
    private readonly TableConnections _connections;

    private SocketmapTable(string reference, string name, TableConnections connections, TableSettings settings) : base(reference, settings)
    {
        _name = name;
        _connections = connections;
    }

    /// <summary>Postfix asks it with whole keys only (its DICT_FLAG_PATTERN), as a regexp: table.</summary>
    public override bool IsPattern => true;

    public static SocketmapTable? Open(string reference, string name, TableSettings settings, out string? error)
    {
        int colon = name.LastIndexOf(':');
        if (colon <= 0 || colon == name.Length - 1 || ServiceEndpoint.Parse(name[..colon], "/") is not { } endpoint
            || !(name.StartsWith("inet:", StringComparison.Ordinal) || name.StartsWith("unix:", StringComparison.Ordinal)))
        {
            error = "expected socketmap:inet:host:port:name or socketmap:unix:pathname:name";
            return null;
        }
        error = null;
        return new SocketmapTable(reference, name[(colon + 1)..], new TableConnections(endpoint, settings.ConnectionLimit), settings);
    }

    protected override async Task<string?> QueryAsync(string key, CancellationToken cancellationToken)
    {
        string request = $"{_name} {key}";
        byte[] bytes = Encoding.UTF8.GetBytes($"{Encoding.UTF8.GetByteCount(request)}:{request},");
        string reply = await _connections.UseAsync(async connection =>
        {
            await connection.WriteAsync(bytes, cancellationToken);
            return await connection.ReadNetstringAsync(MaxReply, cancellationToken);
        }, cancellationToken);
        int space = reply.IndexOf(' ');
        string status = space < 0 ? reply : reply[..space];
        string? payload = space < 0 ? null : reply[(space + 1)..];
        switch (status)
        {
            case "OK":
                return payload;
            case "NOTFOUND":
                return null;
        }
        (string kind, bool configuration) = status switch
        {
            "TEMP" => ("temporary", false),
            "TIMEOUT" => ("timeout", false),
            "PERM" => ("permanent", true),
            _ => ("unknown", false),
        };
        string reason = payload?.TrimStart() is { Length: > 0 } text ? $": {Printable.Text(Encoding.UTF8.GetBytes(text[..Math.Min(text.Length, 200)]))}" : "";
        MailLog.Warning($"{Reference} socketmap server {kind} error{reason}");
        throw new TableLookupException(Reference, $"socketmap server {kind} error{reason}", configuration);
    }
}
