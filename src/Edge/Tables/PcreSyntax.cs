using System.Runtime.InteropServices;
using System.Text;

namespace Edge.Tables;

/// <summary>
/// pcre: table patterns (pcre_table(5)), compiled and matched by the system's PCRE2 library (libpcre2-8, part
/// of every Debian system) with its JIT. Case-insensitive unless "i" is given; the other flags toggle PCRE
/// options as Postfix's do: m (multiline), s (dot matches newline), x (extended), A (anchored), E (dollar
/// matches only at the end), U (ungreedy). Keys are matched as UTF-8.
/// </summary>
internal sealed partial class PcreSyntax : IPatternSyntax
{
    public static PcreSyntax Instance { get; } = new();

    private const string Library = "libpcre2-8.so.0";
    private const uint Caseless = 0x00000008;
    private const uint DollarEndOnly = 0x00000010;
    private const uint DotAll = 0x00000020;
    private const uint Extended = 0x00000080;
    private const uint Multiline = 0x00000400;
    private const uint Ungreedy = 0x00040000;
    private const uint Utf = 0x00080000;
    private const uint MatchInvalidUtf = 0x04000000;
    private const uint Anchored = 0x80000000;
    private const uint JitComplete = 1;
    private const uint InfoCaptureCount = 4;

    public IPattern Compile(string source, string flags)
    {
        uint options = Caseless | Utf | MatchInvalidUtf;
        foreach (char flag in flags)
        {
            options ^= flag switch
            {
                'i' => Caseless,
                'm' => Multiline,
                's' => DotAll,
                'x' => Extended,
                'A' => Anchored,
                'E' => DollarEndOnly,
                'U' => Ungreedy,
                _ => throw new ArgumentException($"unknown flag '{flag}' after the pattern"),
            };
        }
        byte[] pattern = Encoding.UTF8.GetBytes(source);
        PcreCode code;
        try
        {
            code = pcre2_compile_8(pattern, (nuint)pattern.Length, options, out int error, out nuint offset, 0);
            if (code.IsInvalid)
            {
                throw new ArgumentException($"bad regular expression \"{source}\" at offset {offset}: {ErrorMessage(error)}");
            }
        }
        catch (DllNotFoundException)
        {
            throw new ArgumentException($"pcre: tables need the PCRE2 library ({Library}, Debian package libpcre2-8-0)");
        }
        // Without JIT (an unusual build) PCRE2 still matches, only slower.
        _ = pcre2_jit_compile_8(code, JitComplete);
        pcre2_pattern_info_8(code, InfoCaptureCount, out uint groups);
        return new PcrePattern(code, (int)groups);
    }

    private static string ErrorMessage(int error)
    {
        byte[] buffer = new byte[256];
        int length = pcre2_get_error_message_8(error, buffer, (nuint)buffer.Length);
        return length > 0 ? Encoding.ASCII.GetString(buffer, 0, length) : $"error {error}";
    }

    private sealed class PcrePattern(PcreCode code, int groups) : IPattern
    {
        /// <summary>Postfix's results name groups up to $9: room for groups 0 to 9.</summary>
        private const uint Pairs = 10;

        /// <summary>One match block per thread, for every pattern: matching allocates nothing.</summary>
        [ThreadStatic]
        private static nint t_data;

        public int GroupCount => groups;

        private static nint MatchData()
        {
            if (t_data == 0)
            {
                t_data = pcre2_match_data_create_8(Pairs, 0);
                if (t_data == 0)
                {
                    throw new OutOfMemoryException("pcre2_match_data_create failed");
                }
            }
            return t_data;
        }

        /// <summary>The match's group count (0 when there are more groups than room), or a negative PCRE2 code.</summary>
        private unsafe int Run(ReadOnlySpan<byte> subject)
        {
            fixed (byte* bytes = subject)
            {
                return pcre2_match_8(code, bytes, (nuint)subject.Length, 0, 0, MatchData(), 0);
            }
        }

        // A match limit or a resource error (a code below NoMatch) gives no answer, and neither does the table.
        public bool IsMatch(scoped in PatternSubject subject) => Run(subject.Utf8) >= 0;

        public unsafe string[] Groups(scoped in PatternSubject subject)
        {
            ReadOnlySpan<byte> bytes = subject.Utf8;
            int count = Run(bytes);
            nuint* ovector = pcre2_get_ovector_pointer_8(MatchData());
            int found = count == 0 ? (int)Pairs : Math.Max(count, 0);
            var values = new string[groups + 1];
            for (int i = 0; i <= groups; i++)
            {
                nuint start = i < found ? ovector[2 * i] : nuint.MaxValue, end = i < found ? ovector[2 * i + 1] : 0;
                values[i] = start <= end && end <= (nuint)bytes.Length ? Encoding.UTF8.GetString(bytes[(int)start..(int)end]) : "";
            }
            return values;
        }
    }

    /// <summary>A compiled pattern, freed with pcre2_code_free when the table is gone.</summary>
    private sealed class PcreCode() : SafeHandle(0, ownsHandle: true)
    {
        public override bool IsInvalid => handle == 0;

        protected override bool ReleaseHandle()
        {
            pcre2_code_free_8(handle);
            return true;
        }
    }

    [LibraryImport(Library)]
    private static partial PcreCode pcre2_compile_8(byte[] pattern, nuint length, uint options, out int error, out nuint offset, nint context);

    [LibraryImport(Library)]
    private static partial int pcre2_jit_compile_8(PcreCode code, uint options);

    [LibraryImport(Library)]
    private static partial int pcre2_pattern_info_8(PcreCode code, uint what, out uint where);

    [LibraryImport(Library)]
    private static partial int pcre2_get_error_message_8(int error, byte[] buffer, nuint length);

    [LibraryImport(Library)]
    private static partial nint pcre2_match_data_create_8(uint pairs, nint context);

    [LibraryImport(Library)]
    private static unsafe partial int pcre2_match_8(PcreCode code, byte* subject, nuint length, nuint start, uint options, nint data, nint context);

    [LibraryImport(Library)]
    private static unsafe partial nuint* pcre2_get_ovector_pointer_8(nint data);

    [LibraryImport(Library)]
    private static partial void pcre2_code_free_8(nint code);
}
