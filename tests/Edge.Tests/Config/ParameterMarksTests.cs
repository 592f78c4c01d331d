using System.Text.RegularExpressions;
using Edge.Config;
using Edge.Tests.Support;

namespace Edge.Tests.Config;

/// <summary>
/// The marks of the parameter registry cannot drift from the code: every parameter marked implemented is read by
/// code outside the registry, and every parameter that code reads is marked implemented. A parameter is read when
/// its name is a string literal in src/Edge outside ParameterRegistry*.cs, or when it is put together where the code
/// reads per-transport parameters: "smtp_" or "lmtp_" and a literal of SmtpClientOptions.cs, or a service name and
/// a "_suffix" literal of DestinationPolicy.cs or PipeTransport.cs.
/// How a wrong mark fails: wrap Str("smtpd_banner", …) in Warned(…) in ParameterRegistry.Smtpd.cs and the first test
/// names smtpd_banner ("read by code, not marked implemented"); unwrap Refused(Bool("soft_bounce", "no")) in
/// ParameterRegistry.System.cs and the second names soft_bounce ("marked implemented, read by no code").
/// </summary>
public partial class ParameterMarksTests
{
    private static readonly Dictionary<string, string> Code = Repository.SourceFiles
        .Where(f => !Path.GetFileName(f).StartsWith("ParameterRegistry", StringComparison.Ordinal))
        .ToDictionary(f => f, File.ReadAllText);

    private static HashSet<string> Literals(Func<string, bool>? file = null) =>
        [.. Code.Where(c => file?.Invoke(Path.GetFileName(c.Key)) ?? true)
            .SelectMany(c => StringLiteral().Matches(c.Value).Select(m => m.Groups[1].Value))];

    private static bool IsRead(string name)
    {
        if (Literals().Contains(name))
        {
            return true;
        }
        if ((name.StartsWith("smtp_", StringComparison.Ordinal) || name.StartsWith("lmtp_", StringComparison.Ordinal))
            && Literals(f => f == "SmtpClientOptions.cs").Contains(name[5..]))
        {
            return true;
        }
        // smtpd's and tlsproxy's server TLS settings are read by one class, under its role's prefix: $"{role}_tls_protocols".
        if ((name.StartsWith("smtpd_", StringComparison.Ordinal) || name.StartsWith("tlsproxy_", StringComparison.Ordinal))
            && Code.Where(c => Path.GetFileName(c.Key) == "ServerTlsSettings.cs")
                .Any(c => RoleLiteral().Matches(c.Value).Any(m => name.EndsWith(m.Groups[1].Value, StringComparison.Ordinal)
                    && name.Length - m.Groups[1].Length is 5 or 8)))
        {
            return true;
        }
        return Literals(f => f is "DestinationPolicy.cs" or "PipeTransport.cs")
            .Any(suffix => suffix.StartsWith('_') && name.EndsWith(suffix, StringComparison.Ordinal) && name.Length > suffix.Length);
    }

    [Fact]
    public void Every_parameter_code_reads_is_marked_implemented()
    {
        string[] wrong = [.. ParameterRegistry.All.Values
            .Where(d => d.Support != ParameterSupport.Implemented && IsRead(d.Name))
            .Select(d => $"{d.Name} ({d.Support})")];
        Assert.True(wrong.Length == 0, $"read by code, not marked implemented: {string.Join(", ", wrong)}");
    }

    [Fact]
    public void Every_parameter_marked_implemented_is_read_by_code()
    {
        string[] wrong = [.. ParameterRegistry.All.Values
            .Where(d => d.Support == ParameterSupport.Implemented && !IsRead(d.Name))
            .Select(d => d.Name)];
        Assert.True(wrong.Length == 0, $"marked implemented, read by no code: {string.Join(", ", wrong)}");
    }

    [GeneratedRegex("\\{role\\}(_tls_[A-Za-z0-9_]+)\"")]
    private static partial Regex RoleLiteral();

    [GeneratedRegex("\"([A-Za-z0-9_]+)\"")]
    private static partial Regex StringLiteral();
}
