namespace Edge.Mail;

/// <summary>RFC 3463 enhanced status codes as text ("5.1.1").</summary>
internal static class EnhancedStatus
{
    /// <summary>Whether <paramref name="text"/> reads as a 2.X.X, 4.X.X or 5.X.X code.</summary>
    public static bool IsCode(ReadOnlySpan<char> text) =>
        text.Length >= 5 && text[0] is '2' or '4' or '5' && text[1] == '.' && text.Count('.') == 2;
}
