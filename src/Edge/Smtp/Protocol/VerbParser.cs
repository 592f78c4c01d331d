using System.Buffers.Binary;

namespace Edge.Smtp.Protocol;

/// <summary>
/// Matches the verb at the start of a command line as integers over u8 literals (no string, no allocation).
/// ASCII letters are case-folded with a single OR of 0x20 per byte, which also maps digits and some
/// punctuation onto themselves; that is harmless because the literals are all letters.
/// </summary>
internal static class VerbParser
{
    private const uint Lower4 = 0x20202020;

    private static readonly uint Helo = Word("helo"u8);
    private static readonly uint Ehlo = Word("ehlo"u8);
    private static readonly uint Mail = Word("mail"u8);
    private static readonly uint Rcpt = Word("rcpt"u8);
    private static readonly uint Data = Word("data"u8);
    private static readonly uint Bdat = Word("bdat"u8);
    private static readonly uint Rset = Word("rset"u8);
    private static readonly uint Noop = Word("noop"u8);
    private static readonly uint Quit = Word("quit"u8);
    private static readonly uint Vrfy = Word("vrfy"u8);
    private static readonly uint Help = Word("help"u8);
    private static readonly uint Expn = Word("expn"u8);
    private static readonly uint Etrn = Word("etrn"u8);
    private static readonly uint Auth = Word("auth"u8);
    private static readonly uint Star = Word("star"u8);
    private static readonly uint Ttls = Word("ttls"u8);
    private static readonly uint Xcli = Word("xcli"u8);
    private static readonly uint Post = Word("post"u8);
    private static readonly uint Conn = Word("conn"u8);

    private static uint Word(ReadOnlySpan<byte> four) => BinaryPrimitives.ReadUInt32LittleEndian(four);

    /// <summary>
    /// Returns the verb and the offset where its argument starts (after one or more spaces), or the line
    /// length when there is none. A verb must be followed by a space or the end of the line.
    /// </summary>
    public static SmtpVerb Parse(ReadOnlySpan<byte> line, out int argumentStart)
    {
        argumentStart = line.Length;
        if (line.Length > 0 && IsForbidden(line))
        {
            return SmtpVerb.Forbidden;
        }
        if (line.Length < 4)
        {
            return SmtpVerb.Unknown;
        }

        uint w = BinaryPrimitives.ReadUInt32LittleEndian(line) | Lower4;
        SmtpVerb verb;
        int length = 4;
        if (w == Mail) verb = SmtpVerb.Mail;
        else if (w == Rcpt) verb = SmtpVerb.Rcpt;
        else if (w == Ehlo) verb = SmtpVerb.Ehlo;
        else if (w == Data) verb = SmtpVerb.Data;
        else if (w == Bdat) verb = SmtpVerb.Bdat;
        else if (w == Quit) verb = SmtpVerb.Quit;
        else if (w == Rset) verb = SmtpVerb.Rset;
        else if (w == Noop) verb = SmtpVerb.Noop;
        else if (w == Helo) verb = SmtpVerb.Helo;
        else if (w == Vrfy) verb = SmtpVerb.Vrfy;
        else if (w == Help) verb = SmtpVerb.Help;
        else if (w == Expn) verb = SmtpVerb.Expn;
        else if (w == Etrn) verb = SmtpVerb.Etrn;
        else if (w == Auth) verb = SmtpVerb.Auth;
        else if (w == Star && line.Length >= 8
                 && (BinaryPrimitives.ReadUInt32LittleEndian(line[4..]) | Lower4) == Ttls)
        {
            verb = SmtpVerb.StartTls;
            length = 8;
        }
        else if (w == Xcli && line.Length >= 7 && System.Text.Ascii.EqualsIgnoreCase(line[4..7], "ENT"u8))
        {
            verb = SmtpVerb.XClient;
            length = 7;
        }
        else
        {
            return SmtpVerb.Unknown;
        }

        if (line.Length > length && line[length] != (byte)' ')
        {
            return SmtpVerb.Unknown;
        }
        int start = length;
        while (start < line.Length && line[start] == (byte)' ')
        {
            start++;
        }
        argumentStart = start;
        return verb;
    }

    /// <summary>
    /// Postfix's smtpd_forbidden_commands default: CONNECT, GET, POST, and anything that looks like a
    /// message header ("Subject: …"), which means a client is talking to us without SMTP.
    /// </summary>
    internal static bool IsForbidden(ReadOnlySpan<byte> line)
    {
        if (line.Length >= 3 && (line[0] | 0x20) == 'g' && (line[1] | 0x20) == 'e' && (line[2] | 0x20) == 't'
            && (line.Length == 3 || line[3] == ' '))
        {
            return true;
        }
        if (line.Length >= 4)
        {
            uint w = BinaryPrimitives.ReadUInt32LittleEndian(line) | Lower4;
            if (w == Post && (line.Length == 4 || line[4] == ' '))
            {
                return true;
            }
            if (w == Conn && line.Length >= 7 && System.Text.Ascii.EqualsIgnoreCase(line[..7], "CONNECT"u8)
                && (line.Length == 7 || line[7] == ' '))
            {
                return true;
            }
        }
        // Postfix's regexp:{{/^[^A-Z]/ Bogus}}: no SMTP verb starts with anything but a letter, while a
        // TLS ClientHello or a binary protocol does.
        return !char.IsAsciiLetter((char)line[0]) || LooksLikeHeader(line);
    }

    /// <summary>A header field name followed directly by a colon, as in "From: x" or "Subject:".</summary>
    private static bool LooksLikeHeader(ReadOnlySpan<byte> line)
    {
        int colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return false;
        }
        foreach (byte b in line[..colon])
        {
            bool nameChar = b is >= (byte)'!' and <= (byte)'~';
            if (!nameChar)
            {
                return false;
            }
        }
        // "MAIL FROM:" and "RCPT TO:" have a space before the colon, so they never get here.
        return true;
    }
}
