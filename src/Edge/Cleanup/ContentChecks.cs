using Edge.Config;
using Edge.Tables;

namespace Edge.Cleanup;

/// <summary>
/// The content inspection classes of header_checks(5) for mail received by SMTP: header_checks for the message's
/// own headers, mime_header_checks for MIME headers (Content-*, MIME-Version) and the headers of MIME parts,
/// nested_header_checks for the headers of an attached message, body_checks for body lines, each body segment
/// (the body, or a MIME part's) inspected up to body_checks_size_limit bytes. With disable_mime_input_processing
/// the body is one segment and no part or attached message is recognised.
/// </summary>
internal sealed class ContentChecks
{
    private ContentChecks(ILookupTable[] header, ILookupTable[] mimeHeader, ILookupTable[] nestedHeader, ILookupTable[] body,
        long bodySizeLimit, bool mime)
    {
        Header = header;
        MimeHeader = mimeHeader;
        NestedHeader = nestedHeader;
        Body = body;
        BodySizeLimit = bodySizeLimit;
        Mime = mime;
    }

    public ILookupTable[] Header { get; }
    public ILookupTable[] MimeHeader { get; }
    public ILookupTable[] NestedHeader { get; }
    public ILookupTable[] Body { get; }
    public long BodySizeLimit { get; }
    public bool Mime { get; }

    /// <summary>The checks a configuration asks for, or null when it asks for none (the content then passes untouched).</summary>
    public static ContentChecks? From(MainConfig config)
    {
        ILookupTable[] header = Open(config, "header_checks");
        ILookupTable[] mimeHeader = Open(config, "mime_header_checks");
        ILookupTable[] nestedHeader = Open(config, "nested_header_checks");
        ILookupTable[] body = Open(config, "body_checks");
        long limit = config.GetLong("body_checks_size_limit");
        bool mime = !config.GetBool("disable_mime_input_processing");
        return header.Length + mimeHeader.Length + nestedHeader.Length + body.Length == 0
            ? null
            : new ContentChecks(header, mimeHeader, nestedHeader, body, limit, mime);
    }

    /// <summary>Every table of the list, or start-up stops naming the one that cannot be opened, as Postfix's cleanup does.</summary>
    private static ILookupTable[] Open(MainConfig config, string parameter) =>
        [.. config.GetList(parameter).Select(reference => TableFactory.Open(reference, out string? error)
            ?? throw config.Error(parameter, $"{reference}: {error}"))];

    /// <summary>The first table's result for <paramref name="subject"/>, or null; a pattern table allocates nothing unless it matches.</summary>
    public static string? Find(ILookupTable[] tables, scoped in PatternSubject subject)
    {
        foreach (ILookupTable table in tables)
        {
            string? result = table is PatternTable patterns ? patterns.Lookup(subject) : table.Lookup(subject.Text.ToString());
            if (result is not null)
            {
                return result;
            }
        }
        return null;
    }
}
