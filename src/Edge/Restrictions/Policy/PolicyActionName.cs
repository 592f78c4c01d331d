namespace Edge.Restrictions.Policy;

/// <summary>
/// The access(5) action a policy's answer starts with, as the metrics name it: one of a fixed set of constants, so
/// that counting an answer allocates nothing and a policy cannot make up new series.
/// </summary>
internal static class PolicyActionName
{
    private static readonly string[] Actions =
        ["OK", "DUNNO", "REJECT", "DEFER", "DEFER_IF_REJECT", "DEFER_IF_PERMIT", "HOLD", "DISCARD", "PREPEND", "REDIRECT", "BCC", "FILTER", "WARN", "INFO"];

    /// <summary>"failed" when no answer came (the failure action applied), "4xx"/"5xx" for a reply code, "other" for the rest.</summary>
    public static string Of(string? answer)
    {
        if (answer is null)
        {
            return "failed";
        }
        ReadOnlySpan<char> word = answer.AsSpan().TrimStart();
        int end = word.IndexOfAny(' ', '\t');
        word = end < 0 ? word : word[..end];
        if (word.Length == 3 && char.IsAsciiDigit(word[0]))
        {
            return word[0] switch { '4' => "4xx", '5' => "5xx", _ => "other" };
        }
        foreach (string action in Actions)
        {
            if (word.Equals(action, StringComparison.OrdinalIgnoreCase))
            {
                return action;
            }
        }
        return "other";
    }
}
