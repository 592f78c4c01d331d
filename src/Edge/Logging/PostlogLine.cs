using System.Text.RegularExpressions;

namespace Edge.Logging;

/// <summary>
/// A line postlog(1) asks for: its priority (info, warning, error, fatal, panic) and its tag, the program name the
/// line shows after "edge/". A warning is written as a warning; error, fatal and panic with their word in front, as
/// Postfix's postlog writes them.
/// </summary>
internal static partial class PostlogLine
{
    public static readonly string[] Priorities = ["info", "warning", "error", "fatal", "panic"];

    public static bool IsValid(string priority, string tag) => Priorities.Contains(priority) && Tag().IsMatch(tag);

    public static void Write(string priority, string tag, string text)
    {
        switch (priority)
        {
            case "info":
                MailLog.Info(text, tag);
                break;
            case "warning":
                MailLog.Warning(text, tag);
                break;
            default:
                MailLog.Info($"{priority}: {text}", tag);
                break;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._/-]{1,64}$")]
    private static partial Regex Tag();
}
