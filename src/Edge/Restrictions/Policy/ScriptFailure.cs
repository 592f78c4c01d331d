using System.Text.RegularExpressions;
using Jint.Runtime;

namespace Edge.Restrictions.Policy;

/// <summary>How a policy script's failure is told in the log: ", line N: what" after the file name.</summary>
internal static class ScriptFailure
{
    /// <summary>
    /// The failure of a script's call. Whatever a script makes the engine throw is the script's failure: the worker
    /// threads must outlive every script.
    /// </summary>
    public static string Describe(Exception e) => e switch
    {
        JavaScriptException js => $"{Line(js.Location.Start.Line)}: {ErrorName(js)}{js.Message}",
        ScriptLimitException limit => $"{(limit.Where.Length > 0 ? ", " + limit.Where : "")}: stopped by {limit.Limit}",
        RecursionDepthOverflowException => ": stopped by edge_policy_recursion_limit (calls nested too deep)",
        RegexMatchTimeoutException => ": stopped by edge_policy_time_limit (a regular expression ran past it)",
        _ => $": {e.Message}",
    };

    private static string Line(int line) => line > 0 ? $", line {line}" : "";

    /// <summary>The error's name ("TypeError: ", "Error: "), as a browser's console shows it; nothing for a thrown value that is not an object.</summary>
    private static string ErrorName(JavaScriptException e) =>
        e.Error is Jint.Native.Object.ObjectInstance error && error.Get("name").ToString() is { Length: > 0 } name ? name + ": " : "";
}
