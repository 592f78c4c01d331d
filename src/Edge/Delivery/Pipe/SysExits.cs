namespace Edge.Delivery.Pipe;

/// <summary>
/// What a command's exit status means for the recipient, as Postfix's sys_exits table has it: the
/// sendmail-compatible codes of sysexits.h carry their own DSN code, anything else non-zero bounces.
/// </summary>
internal static class SysExits
{
    private static readonly (string Dsn, string Text)[] Codes =
    [
        ("5.3.0", "command line usage error"),
        ("5.6.0", "data format error"),
        ("5.3.0", "cannot open input"),
        ("5.1.1", "user unknown"),
        ("5.1.2", "host name unknown"),
        ("5.3.0", "service unavailable"),
        ("5.3.0", "internal software error"),
        ("4.3.0", "system resource problem"),
        ("5.3.0", "critical OS file missing"),
        ("5.2.0", "can't create user output file"),
        ("5.3.0", "input/output error"),
        ("4.3.0", "temporary failure"),
        ("5.5.0", "remote error in protocol"),
        ("5.7.0", "permission denied"),
        ("5.3.5", "local configuration error"),
    ];

    private const int Base = 64;

    /// <summary>The DSN code and text of a sysexits.h code (64 to 78); null for any other status.</summary>
    public static (string Dsn, string Text)? Lookup(int status) =>
        status is >= Base and < Base + 15 ? Codes[status - Base] : null;
}
