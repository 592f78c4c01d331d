using System.Text;

namespace Edge.Cleanup;

/// <summary>Which inspection class a header belongs to (Postfix's MIME_HDR_PRIMARY, _MULTIPART, _NESTED).</summary>
internal enum HeaderClass : byte
{
    /// <summary>The message's own headers.</summary>
    Primary,
    /// <summary>The headers of a MIME part.</summary>
    Multipart,
    /// <summary>The headers of an attached message (message/rfc822).</summary>
    Nested,
}

/// <summary>
/// Follows a message's MIME structure line by line, as Postfix's mime_state does for cleanup: where headers are and
/// of which class, where a multipart boundary starts the next part's headers or ends the multipart, and where a
/// message/rfc822 part holds an attached message's headers. A line that is neither a header nor the empty line ends a
/// header block, as in Postfix. As in Postfix, a boundary is recognised by its first mime_boundary_length_limit bytes:
/// a line that starts with "--" and them is a boundary, and "--" right after them closes the multipart. A multipart
/// nested deeper than mime_nesting_limit is not followed (its parts are body); with <paramref name="reportNesting"/>
/// that is an <see cref="Error"/>, and with <paramref name="strictEncoding"/> (strict_mime_encoding_domain) so is a
/// multipart or message/* entity whose Content-Transfer-Encoding is not an identity encoding (7bit, 8bit, binary).
/// </summary>
internal sealed class MimeTracker(bool enabled, int nestingLimit = 100, int boundaryLimit = 2048, bool reportNesting = false, bool strictEncoding = false)
{
    private readonly List<byte[]> _boundaries = [];
    private string? _contentType;
    private string? _boundary;
    private string? _encoding;

    /// <summary>Whether the next line belongs to a header block, and of which class.</summary>
    public bool InHeaders { get; private set; } = true;

    public HeaderClass Class { get; private set; } = HeaderClass.Primary;

    /// <summary>The first structural error reported in this message, as Postfix's mime_state_detail() words it, and the text it concerns.</summary>
    public (string Text, string Subject)? Error { get; private set; }

    public void Reset()
    {
        _boundaries.Clear();
        InHeaders = true;
        Class = HeaderClass.Primary;
        _contentType = null;
        _boundary = null;
        _encoding = null;
        Error = null;
    }

    /// <summary>The Content-Type of the current header block: it decides what follows the block.</summary>
    public void ContentType(string value)
    {
        if (!enabled)
        {
            return;
        }
        int semicolon = value.IndexOf(';');
        _contentType = (semicolon < 0 ? value : value[..semicolon]).Trim().ToLowerInvariant();
        _boundary = _contentType.StartsWith("multipart/", StringComparison.Ordinal) ? Parameter(value, "boundary") : null;
        // Postfix's nesting_level starts at -1: a multipart is followed while fewer than limit + 2 enclose it.
        if (_boundary is { Length: > 0 } && _boundaries.Count - 1 > nestingLimit)
        {
            _boundary = null;
            if (reportNesting)
            {
                Report("MIME nesting exceeds safety limit", "Content-Type: " + value);
            }
        }
    }

    /// <summary>The Content-Transfer-Encoding of the current header block, when it is one RFC 2045 names.</summary>
    public void ContentTransferEncoding(string value)
    {
        string token = value.Trim().Split([' ', '\t', '(', ';'], 2)[0].ToLowerInvariant();
        if (token is "7bit" or "8bit" or "binary" or "base64" or "quoted-printable")
        {
            _encoding = token;
        }
    }

    /// <summary>The header block ended: the body of a multipart, the headers of an attached message, or plain body.</summary>
    public void EndOfHeaders()
    {
        if (strictEncoding && enabled && _contentType is not null && !IdentityEncodingAllowed())
        {
            Report("invalid message/* or multipart/* encoding domain", _encoding!);
        }
        if (_boundary is { Length: > 0 })
        {
            _boundaries.Add(Encoding.UTF8.GetBytes(_boundary.Length > boundaryLimit ? _boundary[..boundaryLimit] : _boundary));
            InHeaders = false;
        }
        else if (_contentType is "message/rfc822" && enabled)
        {
            InHeaders = true;
            Class = HeaderClass.Nested;
        }
        else
        {
            InHeaders = false;
        }
        _contentType = null;
        _boundary = null;
        _encoding = null;
    }

    /// <summary>
    /// Postfix's encoding domain rule: a multipart or message/rfc822 may only declare an identity encoding (7bit, 8bit,
    /// binary), message/partial and message/external-body only 7bit (or an encoding whose domain is 7bit).
    /// </summary>
    private bool IdentityEncodingAllowed() => _encoding is null || _contentType switch
    {
        "message/partial" or "message/external-body" => _encoding is not ("8bit" or "binary"),
        "message/rfc822" => _encoding is not ("base64" or "quoted-printable"),
        _ when _contentType!.StartsWith("multipart/", StringComparison.Ordinal) => _encoding is not ("base64" or "quoted-printable"),
        _ => true,
    };

    private void Report(string error, string subject) => Error ??= (error, subject);
    /// <summary>A body line: true when it is a boundary of an enclosing multipart (the next part's headers follow, or the multipart ends).</summary>
    public bool Boundary(ReadOnlySpan<byte> line)
    {
        if (_boundaries.Count == 0 || line.Length <= 2 || line[0] != '-' || line[1] != '-')
        {
            return false;
        }
        ReadOnlySpan<byte> text = line[2..];
        for (int i = _boundaries.Count - 1; i >= 0; i--)
        {
            byte[] boundary = _boundaries[i];
            if (!text.StartsWith(boundary))
            {
                continue;
            }
            _boundaries.RemoveRange(i + 1, _boundaries.Count - i - 1);
            if (text[boundary.Length..].StartsWith("--"u8))
            {
                _boundaries.RemoveAt(i);
                InHeaders = false;
            }
            else
            {
                InHeaders = true;
                Class = HeaderClass.Multipart;
            }
            return true;
        }
        return false;
    }

    /// <summary>A parameter of a header value ("boundary" of "multipart/mixed; boundary="x""), quotes removed.</summary>
    private static string? Parameter(string value, string name)
    {
        foreach (string part in value.Split(';').Skip(1))
        {
            int equals = part.IndexOf('=');
            if (equals > 0 && part[..equals].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return part[(equals + 1)..].Trim().Trim('"');
            }
        }
        return null;
    }
}
