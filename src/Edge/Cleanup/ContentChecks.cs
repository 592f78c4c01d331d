using Edge.Config;
using Edge.Tables;

namespace Edge.Cleanup;

/// <summary>
/// The content inspection classes of header_checks(5) for mail received by SMTP: header_checks for the message's
/// own headers, mime_header_checks for MIME headers (MIME-Version, Content-Type, -Transfer-Encoding, -Disposition, -Description, -ID) and the headers of MIME parts,
/// nested_header_checks for the headers of an attached message, body_checks for body lines, each body segment
/// (the body, or a MIME part's) inspected up to body_checks_size_limit bytes. With disable_mime_input_processing
/// the body is one segment and no part or attached message is recognised.
/// </summary>
internal sealed class ContentChecks
{
    private ContentChecks(string[] parameters, ILookupTable[] header, ILookupTable[] mimeHeader, ILookupTable[] nestedHeader, ILookupTable[] body,
        long bodySizeLimit, bool mime, int nestingLimit, int boundaryLimit, bool strictEncoding)
    {
        StrictEncoding = strictEncoding;
        Parameters = parameters;
        NestingLimit = nestingLimit;
        BoundaryLimit = boundaryLimit;
        Header = header;
        MimeHeader = mimeHeader;
        NestedHeader = nestedHeader;
        Body = body;
        IsRemote = header.Concat(mimeHeader).Concat(nestedHeader).Concat(body).Any(table => table.IsRemote);
        BodySizeLimit = bodySizeLimit;
        Mime = mime;
    }

    /// <summary>The parameters the header, MIME header, nested header and body tables come from, for log lines.</summary>
    public string[] Parameters { get; }

    public ILookupTable[] Header { get; }
    public ILookupTable[] MimeHeader { get; }
    public ILookupTable[] NestedHeader { get; }
    public ILookupTable[] Body { get; }
    public long BodySizeLimit { get; }
    public bool Mime { get; }

    /// <summary>mime_nesting_limit: how deep multiparts are followed.</summary>
    public int NestingLimit { get; }

    /// <summary>mime_boundary_length_limit: how much of a boundary string is compared.</summary>
    public int BoundaryLimit { get; }

    /// <summary>strict_mime_encoding_domain: a multipart or message/* entity with a non-identity encoding is refused.</summary>
    public bool StrictEncoding { get; }

    /// <summary>
    /// Whether MIME structure errors refuse the message, as Postfix's cleanup reports them (MIME_OPT_REPORT_NESTING):
    /// with header checks of any class or strict_mime_encoding_domain.
    /// </summary>
    public bool ReportsMimeErrors => Mime && (StrictEncoding || Header.Length + MimeHeader.Length + NestedHeader.Length > 0);

    /// <summary>Whether anything past the message's own headers is looked at; when not, the body passes straight through.</summary>
    public bool InspectsBody => Body.Length + MimeHeader.Length + NestedHeader.Length > 0;

    public bool IsEmpty => Header.Length == 0 && !InspectsBody;

    /// <summary>Some table of the checks is answered by a server.</summary>
    public bool IsRemote { get; }

    /// <summary>cleanup's checks: header_checks, mime_header_checks, nested_header_checks and body_checks (none, when they name no tables).</summary>
    public static ContentChecks From(MainConfig config) =>
        From(config, ["header_checks", "mime_header_checks", "nested_header_checks", "body_checks"], config.GetBool("strict_mime_encoding_domain"));

    /// <summary>The checks the four <paramref name="parameters"/> (header, MIME header, nested header, body) name.</summary>
    public static ContentChecks From(MainConfig config, string[] parameters, bool strictEncoding = false) => new(parameters, Open(config, parameters[0]),
        Open(config, parameters[1]), Open(config, parameters[2]), Open(config, parameters[3]),
        config.GetLong("body_checks_size_limit"), !config.GetBool("disable_mime_input_processing"), MimeNestingLimit(config),
        CleanupSettings.Positive(config, "mime_boundary_length_limit"), strictEncoding);

    /// <summary>No checks, as for receive_override_options = no_header_body_checks and for Edge's own mail.</summary>
    public static ContentChecks None(MainConfig config) =>
        new(["header_checks", "mime_header_checks", "nested_header_checks", "body_checks"], [], [], [], [], 0, !config.GetBool("disable_mime_input_processing"), MimeNestingLimit(config),
            CleanupSettings.Positive(config, "mime_boundary_length_limit"), strictEncoding: false);

    private static int MimeNestingLimit(MainConfig config) => CleanupSettings.Positive(config, "mime_nesting_limit");

    /// <summary>Every table of the list (none for no parameter), or start-up stops naming the one that cannot be opened, as Postfix's cleanup does.</summary>
    private static ILookupTable[] Open(MainConfig config, string parameter) => parameter.Length == 0 ? [] :
        [.. config.GetList(parameter).Select(reference => TableFactory.Open(reference, TableSettings.From(config), out string? error)
            ?? throw config.Error(parameter, $"{reference}: {error}"))];

    /// <summary>The first table's result for <paramref name="subject"/>, or null; a pattern table allocates nothing unless it matches.</summary>
    public static string? Find(ILookupTable[] tables, scoped in PatternSubject subject)
    {
        foreach (ILookupTable table in tables)
        {
            string? result = table.Current is PatternTable patterns ? patterns.Lookup(subject) : table.Lookup(subject.Text.ToString());
            if (result is not null)
            {
                return result;
            }
        }
        return null;
    }
}
