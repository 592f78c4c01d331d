using System.Net;
using Edge.Tables.Remote;

namespace Edge.Tables.Ldap;

/// <summary>An entry a search found: its DN and its attributes with their values, in the order the server sent them.</summary>
internal sealed record LdapEntry(string Dn, List<(string Name, List<string> Values)> Attributes);

/// <summary>What a search returned: its entries, the references to other servers, and the result's code and text.</summary>
internal sealed record LdapSearchResult(List<LdapEntry> Entries, List<string> References, int ResultCode, string Message, List<string> Referrals);

/// <summary>A search as LDAP carries it.</summary>
internal sealed record LdapSearch(string Base, SearchScope Scope, DereferenceAliases Dereference, int SizeLimit, int TimeLimit, string Filter,
    IReadOnlyList<string> Attributes);

internal enum SearchScope
{
    Base = 0,
    OneLevel = 1,
    Subtree = 2,
}

internal enum DereferenceAliases
{
    Never = 0,
    InSearching = 1,
    FindingBaseObject = 2,
    Always = 3,
}

/// <summary>
/// The few LDAP operations a lookup table needs (RFC 4511): a simple bind, and a search whose entries, references and
/// result are read off the connection as they come. One operation at a time on a connection.
/// </summary>
internal static class LdapProtocol
{
    public const int Success = 0;
    public const int NoSuchObject = 32;
    public const int Referral = 10;

    /// <summary>Past this size an answer is not a directory's (Postfix bounds its replies too).</summary>
    private const int MaxMessage = 16 * 1024 * 1024;

    private static int s_messageId;

    /// <exception cref="LdapResultException">The server refused the bind.</exception>
    public static async Task BindAsync(TableConnection connection, int version, string dn, string password, CancellationToken cancellationToken)
    {
        int id = NextId();
        var ber = new BerWriter();
        ber.Begin(0x30).Integer(id).Begin(0x60).Integer(version).String(dn).String(password, 0x80).End().End();
        await connection.WriteAsync(ber.ToArray(), cancellationToken);
        await ExpectSuccessAsync(connection, id, 0x61, cancellationToken);
    }

    /// <summary>Waits for the answer <paramref name="op"/> to message <paramref name="id"/>, which must say success.</summary>
    /// <exception cref="LdapResultException">It does not.</exception>
    private static async Task ExpectSuccessAsync(TableConnection connection, int id, byte op, CancellationToken cancellationToken)
    {
        while (true)
        {
            (int messageId, byte answer, byte[] message) = await ReadAsync(connection, cancellationToken);
            if (messageId != id || answer != op)
            {
                continue;
            }
            (int code, string text, _) = Result(message);
            if (code != Success)
            {
                throw new LdapResultException(code, text);
            }
            return;
        }
    }

    /// <summary>The StartTLS extended operation (RFC 4511 section 4.14): TLS begins once the server says yes.</summary>
    /// <exception cref="LdapResultException">The server refused.</exception>
    public static async Task StartTlsAsync(TableConnection connection, CancellationToken cancellationToken)
    {
        int id = NextId();
        var ber = new BerWriter();
        ber.Begin(0x30).Integer(id).Begin(0x77).String("1.3.6.1.4.1.1466.20037", 0x80).End().End();
        await connection.WriteAsync(ber.ToArray(), cancellationToken);
        await ExpectSuccessAsync(connection, id, 0x78, cancellationToken);
    }

    public static async Task<LdapSearchResult> SearchAsync(TableConnection connection, LdapSearch search, CancellationToken cancellationToken)
    {
        int id = NextId();
        var ber = new BerWriter();
        ber.Begin(0x30).Integer(id).Begin(0x63).String(search.Base).Integer((int)search.Scope, 0x0a).Integer((int)search.Dereference, 0x0a)
            .Integer(search.SizeLimit).Integer(search.TimeLimit).Boolean(false);
        LdapFilter.Write(ber, search.Filter);
        ber.Begin(0x30);
        foreach (string attribute in search.Attributes)
        {
            ber.String(attribute);
        }
        ber.End().End().End();
        await connection.WriteAsync(ber.ToArray(), cancellationToken);
        var entries = new List<LdapEntry>();
        var references = new List<string>();
        while (true)
        {
            (int messageId, byte op, byte[] message) = await ReadAsync(connection, cancellationToken);
            if (messageId != id)
            {
                continue;
            }
            switch (op)
            {
                case 0x64:
                    entries.Add(Entry(message));
                    break;
                case 0x73:
                    references.AddRange(Strings(message));
                    break;
                case 0x65:
                    (int code, string text, List<string> referrals) = Result(message);
                    return new LdapSearchResult(entries, references, code, text, referrals);
                default:
                    throw new ProtocolViolationException($"an LDAP answer of type {op:x2} to a search");
            }
        }
    }

    private static int NextId() => Interlocked.Increment(ref s_messageId) & 0x7fffffff;

    /// <summary>The next message: its ID, its operation's tag and the operation's content.</summary>
    private static async Task<(int Id, byte Op, byte[] Content)> ReadAsync(TableConnection connection, CancellationToken cancellationToken)
    {
        byte[] bytes = await connection.ReadBerAsync(MaxMessage, cancellationToken);
        try
        {
            return Message(bytes);
        }
        catch (InvalidDataException e)
        {
            throw new ProtocolViolationException(e.Message);
        }
    }

    private static (int, byte, byte[]) Message(byte[] bytes)
    {
        var outer = new BerReader(bytes);
        ReadOnlySpan<byte> content = outer.Read(out byte tag);
        if (tag != 0x30)
        {
            throw new InvalidDataException("not an LDAP message");
        }
        var message = new BerReader(content);
        int id = (int)message.Integer();
        ReadOnlySpan<byte> body = message.Read(out byte op);
        return (id, op, body.ToArray());
    }

    private static LdapEntry Entry(byte[] content)
    {
        try
        {
            var entry = new BerReader(content);
            string dn = entry.String();
            var attributes = new List<(string, List<string>)>();
            var list = new BerReader(entry.Read(out _));
            while (list.HasMore)
            {
                var attribute = new BerReader(list.Read(out _));
                string name = attribute.String();
                var values = new List<string>();
                var set = new BerReader(attribute.Read(out _));
                while (set.HasMore)
                {
                    values.Add(set.String());
                }
                attributes.Add((name, values));
            }
            return new LdapEntry(dn, attributes);
        }
        catch (InvalidDataException e)
        {
            throw new ProtocolViolationException(e.Message);
        }
    }

    private static List<string> Strings(byte[] content)
    {
        var strings = new List<string>();
        var reader = new BerReader(content);
        while (reader.HasMore)
        {
            strings.Add(reader.String());
        }
        return strings;
    }

    /// <summary>An LDAPResult: the code, the diagnostic text, and the referral URLs of a code 10.</summary>
    private static (int Code, string Text, List<string> Referrals) Result(byte[] content)
    {
        try
        {
            var result = new BerReader(content);
            int code = (int)result.Integer();
            result.String();
            string text = result.HasMore ? result.String() : "";
            List<string> referrals = result.HasMore && result.PeekTag == 0xa3 ? Strings(result.Read(out _).ToArray()) : [];
            return (code, text, referrals);
        }
        catch (InvalidDataException e)
        {
            throw new ProtocolViolationException(e.Message);
        }
    }
}

/// <summary>A server's refusal of an operation, with its LDAP result code.</summary>
internal sealed class LdapResultException(int code, string text) : Exception($"{LdapResultException.Name(code)} ({code}){(text.Length > 0 ? $": {text}" : "")}")
{
    public int Code { get; } = code;

    public static string Name(int code) => code switch
    {
        1 => "Operations error",
        2 => "Protocol error",
        3 => "Time limit exceeded",
        4 => "Size limit exceeded",
        10 => "Referral",
        32 => "No such object",
        48 => "Inappropriate authentication",
        49 => "Invalid credentials",
        50 => "Insufficient access",
        51 => "Server is busy",
        52 => "Server is unavailable",
        53 => "Server is unwilling to perform",
        _ => "LDAP error",
    };
}
