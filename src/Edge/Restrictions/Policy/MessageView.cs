using System.Text;
using MimeKit;

namespace Edge.Restrictions.Policy;

/// <summary>One header as a policy script sees it: its name, its value unfolded, and that value decoded (RFC 2047).</summary>
internal sealed record HeaderView(string Name, string Value, string Decoded);

/// <summary>One MIME part below the message's top: its type, disposition and file name (decoded), and its headers.</summary>
internal sealed record PartView(string ContentType, string? Disposition, string? FileName, IReadOnlyList<HeaderView> Headers);

/// <summary>
/// The message at its end, for the endOfData(message) of policy scripts: the envelope's recipients, the size, the
/// headers as received (Edge's own Received: header first), every MIME part's headers, and the first bytes of the
/// body (edge_policy_body_limit). Parsed by MimeKit once per message, and only when a script will look.
/// </summary>
/// <param name="Body">The body's first bytes as text (UTF-8, what is not becomes U+FFFD).</param>
internal sealed record MessageView(IReadOnlyList<string> Recipients, long Size, IReadOnlyList<HeaderView> Headers,
    IReadOnlyList<PartView> Parts, string Body)
{
    public static MessageView Parse(byte[] content, IReadOnlyList<string> recipients, int bodyLimit)
    {
        using var stream = new MemoryStream(content, writable: false);
        MimeMessage message;
        try
        {
            message = MimeMessage.Load(stream);
        }
        catch (FormatException)
        {
            // No header block MimeKit can read: the script sees the content as body.
            return new MessageView(recipients, content.Length, [], [], Encoding.UTF8.GetString(content, 0, Math.Min(Math.Max(0, bodyLimit), content.Length)));
        }
        var parts = new List<PartView>();
        using (var iterator = new MimeIterator(message))
        {
            while (iterator.MoveNext())
            {
                MimeEntity part = iterator.Current;
                parts.Add(new PartView(part.ContentType.MimeType.ToLowerInvariant(), part.ContentDisposition?.Disposition.ToLowerInvariant(),
                    part is MimePart leaf ? leaf.FileName : null, Views(part.Headers)));
            }
        }
        int bodyStart = BodyStart(content);
        string body = Encoding.UTF8.GetString(content, bodyStart, Math.Min(Math.Max(0, bodyLimit), content.Length - bodyStart));
        return new MessageView(recipients, content.Length, Views(message.Headers), parts, body);
    }

    private static HeaderView[] Views(HeaderList headers) =>
        [.. headers.Select(h => new HeaderView(h.Field, Unfolded(Encoding.UTF8.GetString(h.RawValue)), h.Value))];

    private static string Unfolded(string value) => value.Replace("\r\n", "").Replace("\n", "").Trim();

    /// <summary>Where the body starts: after the empty line that ends the headers; the end when there is none.</summary>
    private static int BodyStart(byte[] content)
    {
        int end = content.AsSpan().IndexOf("\r\n\r\n"u8);
        return end < 0 ? content.Length : end + 4;
    }
}
