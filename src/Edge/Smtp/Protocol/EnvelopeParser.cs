using System.Buffers.Text;
using System.Text;
using Edge.Mail;

namespace Edge.Smtp.Protocol;

/// <summary>
/// Parses the arguments of MAIL FROM and RCPT TO with their ESMTP parameters (SIZE, BODY, SMTPUTF8, RET,
/// ENVID, NOTIFY, ORCPT) in place, as Postfix's mail_cmd and rcpt_cmd do, in the same order of checks.
/// </summary>
internal static class EnvelopeParser
{
    public static EnvelopeError ParseMail(ReadOnlySpan<byte> argument, bool strict, bool smtpUtf8Enabled,
        out MailArguments result)
    {
        result = default;
        result.Size = -1;
        if (!TrySkipKeyword(argument, "FROM:"u8, out int pathStart))
        {
            return EnvelopeError.MailSyntax;
        }
        if (!PathParser.TryParse(argument[pathStart..], strict, utf8Allowed: smtpUtf8Enabled,
                out Range address, out int rest))
        {
            return EnvelopeError.BadSender;
        }
        result.Address = Shift(address, pathStart);

        int position = pathStart + rest;
        while (NextParameter(argument, ref position, out Range parameter))
        {
            ReadOnlySpan<byte> p = argument[parameter];
            int eq = Split(p, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value);
            if (Ascii.EqualsIgnoreCase(key, "BODY"u8) && eq > 0
                && (Ascii.EqualsIgnoreCase(value, "8BITMIME"u8) || Ascii.EqualsIgnoreCase(value, "7BIT"u8)))
            {
                result.Body = value.Length == 4 ? BodyType.SevenBit : BodyType.EightBitMime;
            }
            else if (Ascii.EqualsIgnoreCase(key, "SIZE"u8) && eq > 0)
            {
                if (value.IsEmpty || !AllDigits(value))
                {
                    return EnvelopeError.BadSize;
                }
                if (!Utf8Parser.TryParse(value, out long size, out int used) || used != value.Length)
                {
                    return EnvelopeError.SizeOverflow;
                }
                result.Size = size;
            }
            else if (Ascii.EqualsIgnoreCase(p, "SMTPUTF8"u8) && smtpUtf8Enabled)
            {
                result.SmtpUtf8 = true;
            }
            else if (Ascii.EqualsIgnoreCase(key, "RET"u8) && eq > 0)
            {
                if (result.Ret != DsnReturn.Unspecified)
                {
                    return EnvelopeError.BadRet;
                }
                if (Ascii.EqualsIgnoreCase(value, "FULL"u8)) result.Ret = DsnReturn.Full;
                else if (Ascii.EqualsIgnoreCase(value, "HDRS"u8)) result.Ret = DsnReturn.Headers;
                else return EnvelopeError.BadRet;
            }
            else if (Ascii.EqualsIgnoreCase(key, "ENVID"u8) && eq > 0)
            {
                if (result.EnvId.End.Value != 0 || !XText.IsValid(value))
                {
                    return EnvelopeError.BadEnvId;
                }
                result.EnvId = Shift(new Range(eq + 1, p.Length), parameter.Start.Value);
            }
            else if (Ascii.EqualsIgnoreCase(key, "AUTH"u8) && eq > 0)
            {
                if (result.Auth.End.Value != 0)
                {
                    return EnvelopeError.MultipleAuth;
                }
                result.Auth = Shift(new Range(eq + 1, p.Length), parameter.Start.Value);
            }
            else
            {
                result.BadParameter = parameter;
                return EnvelopeError.Unsupported;
            }
        }
        return EnvelopeError.None;
    }

    public static EnvelopeError ParseRcpt(ReadOnlySpan<byte> argument, bool strict, bool utf8Allowed,
        out RcptArguments result)
    {
        result = default;
        if (!TrySkipKeyword(argument, "TO:"u8, out int pathStart))
        {
            return EnvelopeError.RcptSyntax;
        }
        if (!PathParser.TryParse(argument[pathStart..], strict, utf8Allowed, out Range address, out int rest))
        {
            return EnvelopeError.BadRecipient;
        }
        result.Address = Shift(address, pathStart);
        if (result.Address.Start.Value == result.Address.End.Value)
        {
            return EnvelopeError.BadRecipient;
        }

        int position = pathStart + rest;
        while (NextParameter(argument, ref position, out Range parameter))
        {
            ReadOnlySpan<byte> p = argument[parameter];
            int eq = Split(p, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value);
            if (Ascii.EqualsIgnoreCase(key, "NOTIFY"u8) && eq > 0)
            {
                if (result.Notify != DsnNotify.Unspecified || !TryParseNotify(value, out result.Notify))
                {
                    return EnvelopeError.BadNotify;
                }
            }
            else if (Ascii.EqualsIgnoreCase(key, "ORCPT"u8) && eq > 0)
            {
                int semicolon = value.IndexOf((byte)';');
                if (result.Orcpt.End.Value != 0 || semicolon <= 0 || !XText.IsValid(value[(semicolon + 1)..])
                    || !AllAtomChars(value[..semicolon]))
                {
                    return EnvelopeError.BadOrcpt;
                }
                result.Orcpt = Shift(new Range(eq + 1, p.Length), parameter.Start.Value);
            }
            else
            {
                result.BadParameter = parameter;
                return EnvelopeError.Unsupported;
            }
        }
        return EnvelopeError.None;
    }

    /// <summary>
    /// Matches "FROM:" / "TO:" case-insensitively. Postfix's tokenizer splits the keyword from the path, so
    /// white space after the colon ("MAIL FROM: &lt;a@b&gt;") is accepted in every mode.
    /// </summary>
    private static bool TrySkipKeyword(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> keyword, out int pathStart)
    {
        pathStart = 0;
        if (argument.Length < keyword.Length || !Ascii.EqualsIgnoreCase(argument[..keyword.Length], keyword))
        {
            return false;
        }
        int i = keyword.Length;
        while (i < argument.Length && argument[i] == (byte)' ')
        {
            i++;
        }
        if (i >= argument.Length)
        {
            return false;
        }
        pathStart = i;
        return true;
    }

    private static bool NextParameter(ReadOnlySpan<byte> argument, ref int position, out Range parameter)
    {
        while (position < argument.Length && argument[position] == (byte)' ')
        {
            position++;
        }
        if (position >= argument.Length)
        {
            parameter = default;
            return false;
        }
        int end = argument[position..].IndexOf((byte)' ');
        end = end < 0 ? argument.Length : position + end;
        parameter = position..end;
        position = end;
        return true;
    }

    /// <summary>Splits "KEY=value" (or a bare "KEY"); returns the index of '=' or -1.</summary>
    private static int Split(ReadOnlySpan<byte> parameter, out ReadOnlySpan<byte> key, out ReadOnlySpan<byte> value)
    {
        int eq = parameter.IndexOf((byte)'=');
        key = eq < 0 ? parameter : parameter[..eq];
        value = eq < 0 ? default : parameter[(eq + 1)..];
        return eq;
    }

    private static bool TryParseNotify(ReadOnlySpan<byte> value, out DsnNotify notify)
    {
        notify = DsnNotify.Unspecified;
        while (true)
        {
            int comma = value.IndexOf((byte)',');
            ReadOnlySpan<byte> word = comma < 0 ? value : value[..comma];
            DsnNotify flag;
            if (Ascii.EqualsIgnoreCase(word, "NEVER"u8)) flag = DsnNotify.Never;
            else if (Ascii.EqualsIgnoreCase(word, "SUCCESS"u8)) flag = DsnNotify.Success;
            else if (Ascii.EqualsIgnoreCase(word, "FAILURE"u8)) flag = DsnNotify.Failure;
            else if (Ascii.EqualsIgnoreCase(word, "DELAY"u8)) flag = DsnNotify.Delay;
            else return false;
            notify |= flag;
            if (comma < 0)
            {
                break;
            }
            value = value[(comma + 1)..];
        }
        // RFC 3461 4.1: NEVER must appear alone.
        return (notify & DsnNotify.Never) == 0 || notify == DsnNotify.Never;
    }

    private static bool AllDigits(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
        }
        return true;
    }

    private static bool AllAtomChars(ReadOnlySpan<byte> value)
    {
        foreach (byte b in value)
        {
            if (b <= 0x20 || b >= 0x7f)
            {
                return false;
            }
        }
        return true;
    }

    private static Range Shift(Range range, int by) => (range.Start.Value + by)..(range.End.Value + by);
}
