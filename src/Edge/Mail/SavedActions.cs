namespace Edge.Mail;

/// <summary>
/// The access(5) actions that concern the whole message rather than the command being checked, saved for the end
/// of the data as Postfix's smtpd saves them for cleanup: HOLD, DISCARD, FILTER (transport:destination), REDIRECT and BCC.
/// </summary>
internal sealed record SavedActions(bool Hold = false, bool Discard = false, string? Redirect = null, string[]? Bcc = null,
    string? Filter = null)
{
    /// <summary>Both sets: hold or discard if either says so, the later REDIRECT and FILTER, every BCC.</summary>
    public static SavedActions? Merge(SavedActions? first, SavedActions? second) =>
        first is null ? second
        : second is null ? first
        : new SavedActions(first.Hold || second.Hold, first.Discard || second.Discard, second.Redirect ?? first.Redirect,
            [.. first.Bcc ?? [], .. second.Bcc ?? []], second.Filter ?? first.Filter);
}
