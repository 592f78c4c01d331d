using System.Security.Authentication;

namespace Edge.Smtp.Tls;

/// <summary>
/// smtpd_tls_protocols and smtpd_tls_mandatory_protocols as Postfix reads them: protocol names to include, "!name" to
/// exclude, and ">=name" or "&lt;=name" bounds, separated by spaces, commas or colons (">=TLSv1.2", "!SSLv2, !SSLv3").
/// </summary>
internal static class TlsProtocolList
{
    private static readonly string[] s_names = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

#pragma warning disable SYSLIB0039 // TLS 1.0 and 1.1: an administrator who lists them gets them, if the system's OpenSSL allows them.
    private static readonly SslProtocols[] s_protocols = [SslProtocols.None, SslProtocols.None, SslProtocols.Tls, SslProtocols.Tls11, SslProtocols.Tls12, SslProtocols.Tls13];
#pragma warning restore SYSLIB0039

    /// <summary>
    /// The protocols the list allows, as SslStream takes them; <see cref="SslProtocols.None"/> (the system's choice,
    /// TLS 1.2 and 1.3 on Debian) when the list excludes nothing from TLSv1 up. Null with <paramref name="error"/> for a
    /// name Postfix does not know or a list that leaves no TLS version.
    /// </summary>
    public static SslProtocols? Parse(string value, out string? error)
    {
        error = null;
        bool[] included = new bool[s_names.Length];
        bool anyPlain = false;
        int lowest = 0, highest = s_names.Length - 1;
        var excluded = new HashSet<int>();
        foreach (string raw in value.Split([' ', ',', ':', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            (string name, char kind) = raw.StartsWith(">=", StringComparison.Ordinal) ? (raw[2..], '>')
                : raw.StartsWith("<=", StringComparison.Ordinal) ? (raw[2..], '<')
                : raw.StartsWith('!') ? (raw[1..], '!') : (raw, '=');
            int index = Array.FindIndex(s_names, n => n.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (index < 0)
            {
                error = $"invalid TLS protocol name \"{raw}\" (SSLv2, SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, with !, >= or <=)";
                return null;
            }
            switch (kind)
            {
                case '>': lowest = Math.Max(lowest, index); break;
                case '<': highest = Math.Min(highest, index); break;
                case '!': excluded.Add(index); break;
                default: included[index] = true; anyPlain = true; break;
            }
        }
        var result = SslProtocols.None;
        bool allFromTls1 = true;
        for (int i = 0; i < s_names.Length; i++)
        {
            bool on = (!anyPlain || included[i]) && i >= lowest && i <= highest && !excluded.Contains(i);
            result |= on ? s_protocols[i] : SslProtocols.None;
            allFromTls1 &= i < 2 || on;
        }
        if (result == SslProtocols.None)
        {
            error = $"\"{value}\" leaves no TLS protocol version enabled";
            return null;
        }
        return allFromTls1 ? SslProtocols.None : result;
    }
}
