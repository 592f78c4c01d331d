using System.Text.RegularExpressions;

namespace Edge.Tables;

/// <summary>
/// regexp: table patterns: POSIX extended regular expressions, case-insensitive unless the "i" flag is given;
/// "m" makes ^ and $ match at line breaks. They run on .NET's non-backtracking engine: matching takes linear
/// time, whatever a client sends.
/// </summary>
internal sealed class RegexpSyntax : IPatternSyntax
{
    public static RegexpSyntax Instance { get; } = new();

    public IPattern Compile(string source, string flags)
    {
        var options = RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | RegexOptions.IgnoreCase;
        foreach (char flag in flags)
        {
            options ^= flag switch
            {
                'i' => RegexOptions.IgnoreCase,
                'm' => RegexOptions.Multiline,
                'x' => throw new ArgumentException("flag 'x' (basic regular expressions) is not supported; write the pattern as an extended one"),
                _ => throw new ArgumentException($"unknown flag '{flag}' after the pattern"),
            };
        }
        try
        {
            return new DotNetPattern(new Regex(PosixPattern.ToDotNet(source), options));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new ArgumentException($"bad regular expression \"{source}\": {e.Message}");
        }
    }

    private sealed class DotNetPattern(Regex regex) : IPattern
    {
        public int GroupCount { get; } = regex.GetGroupNumbers().Max();

        public bool IsMatch(scoped in PatternSubject subject) => regex.IsMatch(subject.Text);

        public string[] Groups(scoped in PatternSubject subject) =>
            [.. regex.Match(subject.Text.ToString()).Groups.Cast<Group>().Select(g => g.Value)];
    }
}
