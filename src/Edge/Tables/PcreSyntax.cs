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
    private const int NoMatch = -1;

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
        public int GroupCount => groups;

        public unsafe string[]? Match(string key)
        {
            byte[] subject = Encoding.UTF8.GetBytes(key);
            nint data = pcre2_match_data_create_from_pattern_8(code, 0);
            if (data == 0)
            {
                throw new OutOfMemoryException("pcre2_match_data_create_from_pattern failed");
            }
            try
            {
                int count = pcre2_match_8(code, subject, (nuint)subject.Length, 0, 0, data, 0);
                if (count == NoMatch)
                {
                    return null;
                }
                if (count < 0)
                {
                    // A match limit or a resource error: PCRE gives no answer, and neither does the table.
                    return null;
                }
                nuint* ovector = pcre2_get_ovector_pointer_8(data);
                var values = new string[groups + 1];
                for (int i = 0; i <= groups; i++)
                {
                    nuint start = ovector[2 * i], end = ovector[2 * i + 1];
                    values[i] = i < Math.Max(count, 1) && start <= end && end <= (nuint)subject.Length
                        ? Encoding.UTF8.GetString(subject, (int)start, (int)(end - start)) : "";
                }
                return values;
            }
            finally
            {
                pcre2_match_data_free_8(data);
            }
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
    private static partial nint pcre2_match_data_create_from_pattern_8(PcreCode code, nint context);

    [LibraryImport(Library)]
    private static partial int pcre2_match_8(PcreCode code, byte[] subject, nuint length, nuint start, uint options, nint data, nint context);

    [LibraryImport(Library)]
    private static unsafe partial nuint* pcre2_get_ovector_pointer_8(nint data);

    [LibraryImport(Library)]
    private static partial void pcre2_match_data_free_8(nint data);

    [LibraryImport(Library)]
    private static partial void pcre2_code_free_8(nint code);
}
