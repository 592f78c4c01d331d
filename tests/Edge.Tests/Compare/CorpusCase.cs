namespace Edge.Tests.Compare;

/// <summary>
/// One case of the Postfix comparison corpus (Corpus/*.case): main.cf lines, the files they name, and SMTP sessions.
/// The format, a section header at the left margin with its lines indented below it:
/// <code>
/// # what the case shows
/// main.cf:
///     smtpd_recipient_restrictions = check_recipient_access texthash:$DIR/access, reject_unauth_destination
/// file access:
///     user@edge.test  REJECT
/// session:
///     EHLO client.example
///     MAIL FROM:&lt;a@example.org&gt;
///     RCPT TO:&lt;user@edge.test&gt;
/// </code>
/// $DIR, in main.cf and in the files, is the directory the files are written to. A "dns:" section's lines are dnsmasq record options
/// ("--mx-host=…"): both servers then ask one dnsmasq that serves them, and nothing else. In a session, the lines after a DATA that got 354 are the
/// message, up to a line with a single "."; commands joined by a literal "\r\n" on one line are pipelined (sent at
/// once, each reply read after); white space past a session line's four spaces of indentation is the
/// line's own (a header's continuation). Blank lines are skipped, so a message's body starts at its first line that
/// is not a header.
/// </summary>
public sealed record CorpusCase(string Name, string MainCf, IReadOnlyDictionary<string, string> Files, IReadOnlyList<string> Dns,
    IReadOnlyList<IReadOnlyList<string>> Sessions)
{
    public static string Directory { get; } = Path.Combine(Support.Repository.Source, "..", "..", "tests", "Edge.Tests", "Compare", "Corpus");

    public static IEnumerable<string> Names => System.IO.Directory.GetFiles(Directory, "*.case").Select(Path.GetFileNameWithoutExtension).Order()!;

    public static CorpusCase Load(string name)
    {
        string mainCf = "";
        var files = new Dictionary<string, string>();
        var dns = new List<string>();
        var sessions = new List<IReadOnlyList<string>>();
        string? section = null;
        foreach (string raw in File.ReadLines(Path.Combine(Directory, name + ".case")))
        {
            if (raw.TrimStart().StartsWith('#') || raw.Trim().Length == 0)
            {
                continue;
            }
            if (!char.IsWhiteSpace(raw[0]))
            {
                section = raw.TrimEnd().TrimEnd(':');
                if (section == "session")
                {
                    sessions.Add(new List<string>());
                }
                else if (section.StartsWith("file ", StringComparison.Ordinal))
                {
                    files[section[5..].Trim()] = "";
                }
                else if (section is not ("main.cf" or "dns"))
                {
                    throw new FormatException($"{name}.case: unknown section \"{raw}\"");
                }
                continue;
            }
            string line = raw.Trim();
            switch (section)
            {
                case "main.cf":
                    mainCf += line + "\n";
                    break;
                case "dns":
                    dns.Add(line);
                    break;
                case "session":
                    // Past the section's indentation, white space is the line's own (a header's continuation line).
                    ((List<string>)sessions[^1]).Add(raw.StartsWith("    ", StringComparison.Ordinal) ? raw[4..].TrimEnd() : line);
                    break;
                case { } file when file.StartsWith("file ", StringComparison.Ordinal):
                    files[file[5..].Trim()] += line + "\n";
                    break;
                default:
                    throw new FormatException($"{name}.case: \"{raw}\" is outside any section");
            }
        }
        return new CorpusCase(name, mainCf, files, dns, sessions);
    }
}
