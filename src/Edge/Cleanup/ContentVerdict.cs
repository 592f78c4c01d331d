namespace Edge.Cleanup;

/// <summary>
/// What header and body checks decided about a whole message, carried out when it ends: <see cref="Reply"/> refuses
/// it (REJECT), <see cref="Discard"/> accepts it and throws it away, <see cref="Hold"/> queues it on hold,
/// <see cref="Redirect"/> sends it to one address instead of its recipients, <see cref="Bcc"/> adds recipients, and
/// <see cref="Filter"/> names the content filter it goes through after the queue; <see cref="TooManyHops"/> refuses it as a
/// mail loop (hopcount_limit).
/// </summary>
internal sealed class ContentVerdict
{
    public string? Reply { get; set; }
    public bool Discard { get; set; }
    public bool Hold { get; set; }
    public string? Redirect { get; set; }
    public List<string> Bcc { get; } = [];
    public string? Filter { get; set; }
    public bool TooManyHops { get; set; }

    /// <summary>The reply for a MIME structure error (mime_nesting_limit, strict_mime_encoding_domain): it refuses the message when nothing else did.</summary>
    public string? MimeError { get; set; }

    /// <summary>What another inspection of the same message decided, added to this (milter_header_checks).</summary>
    public void Add(ContentVerdict other)
    {
        Reply ??= other.Reply;
        Discard |= other.Discard;
        Hold |= other.Hold;
        Redirect = other.Redirect ?? Redirect;
        Bcc.AddRange(other.Bcc);
        Filter = other.Filter ?? Filter;
    }

    public void Reset()
    {
        Reply = null;
        Discard = false;
        Hold = false;
        Redirect = null;
        Bcc.Clear();
        Filter = null;
        TooManyHops = false;
        MimeError = null;
    }
}
