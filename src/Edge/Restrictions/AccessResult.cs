using Edge.Logging;
using Edge.Mail;

namespace Edge.Restrictions;

/// <summary>
/// What an access table's (or a policy's) result means (access(5)): OK or a number accepts; REJECT, DEFER,
/// "4NN text" and "5NN text" reply, with an optional enhanced status code and text; DUNNO goes on with the
/// list; DEFER_IF_PERMIT defers unless something later rejects, DEFER_IF_REJECT defers what later rejects; WARN
/// and INFO log and go on; PREPEND puts a header in front of the message and goes on; HOLD, REDIRECT and BCC are saved
/// for the end of the data and go on, as is FILTER (a content filter after the queue); DISCARD is saved and accepts;
/// anything else is a list of restrictions, evaluated in place.
/// </summary>
internal static class AccessResult
{
    /// <summary>Access tables that name restrictions may name more: this deep and no deeper.</summary>
    internal const int MaxDepth = 16;

    public static Decision Apply(RestrictionSettings s, RestrictionStep step, Subject subject,
        scoped in CheckContext c, int depth, string? result)
    {
        if (result is null)
        {
            return Decision.Dunno;
        }
        string value = result.Trim();
        int space = value.IndexOfAny([' ', '\t']);
        string action = space < 0 ? value : value[..space];
        string text = space < 0 ? "" : value[space..].Trim();
        if (action.Equals("OK", StringComparison.OrdinalIgnoreCase) || (text.Length == 0 && value.All(char.IsAsciiDigit)))
        {
            return Decision.Permit;
        }
        if (action.Equals("DUNNO", StringComparison.OrdinalIgnoreCase))
        {
            return Decision.Dunno;
        }
        if (action.Equals("REJECT", StringComparison.OrdinalIgnoreCase))
        {
            return Reply(s.AccessRejectCode, "5.7.1", subject, c, text);
        }
        if (action.Equals("DEFER", StringComparison.OrdinalIgnoreCase))
        {
            return Reply(s.AccessDeferCode, "4.7.1", subject, c, text);
        }
        // Postfix's code, enhanced code and text for both: access_map_defer_code, 4.7.1, "Service unavailable".
        if (action.Equals("DEFER_IF_PERMIT", StringComparison.OrdinalIgnoreCase))
        {
            return Decision.Dunno with { Deferral = Reply(s.AccessDeferCode, "4.7.1", subject, c, text.Length > 0 ? text : "Service unavailable").Reply };
        }
        if (action.Equals("DEFER_IF_REJECT", StringComparison.OrdinalIgnoreCase))
        {
            return Decision.Dunno with { DeferIfReject = Reply(s.AccessDeferCode, "4.7.1", subject, c, text.Length > 0 ? text : "Service unavailable").Reply };
        }
        if (action.Equals("WARN", StringComparison.OrdinalIgnoreCase) || action.Equals("INFO", StringComparison.OrdinalIgnoreCase))
        {
            LogWhatsup(action.ToLowerInvariant(), subject, c, text);
            return Decision.Dunno;
        }
        if (subject is Subject.Client or Subject.Helo && c.Session is { InTransaction: false }
            && action.ToUpperInvariant() is "HOLD" or "DISCARD" or "FILTER" or "REDIRECT" or "BCC" or "PREPEND")
        {
            // Postfix's not_in_client_helo(): with smtpd_delay_reject = no these lists run outside any mail transaction.
            MailLog.Warning($"access table {step.TableName}: with smtpd_delay_reject=no, action {action.ToUpperInvariant()} " +
                "is always skipped in Client host or Helo command restrictions");
            return Decision.Dunno;
        }
        if (Saved(action, text, subject, c) is { } saved)
        {
            return saved;
        }
        if (action.Equals("PREPEND", StringComparison.OrdinalIgnoreCase))
        {
            int colon = text.IndexOf(':');
            if (colon <= 0 || text.AsSpan(0, colon).ContainsAny(" \t") || text.Contains('\r') || text.Contains('\n'))
            {
                MailLog.Warning($"{step.TableName}: PREPEND needs a \"name: value\" header, not \"{text}\"");
                return Decision.ServerConfigurationError;
            }
            return Decision.Dunno with { Prepend = text + "\r\n" };
        }
        if (action.Length == 3 && action.All(char.IsAsciiDigit) && action[0] is '4' or '5')
        {
            int code = int.Parse(action);
            return Reply(code, code < 500 ? "4.7.1" : "5.7.1", subject, c, text);
        }
        if (depth >= MaxDepth)
        {
            MailLog.Warning($"access table {step.TableName}: restrictions nested more than {MaxDepth} deep: \"{value}\"");
            return Decision.ServerConfigurationError;
        }
        RestrictionList? list = RestrictionList.Parse(value.Split([' ', '\t', ','], StringSplitOptions.RemoveEmptyEntries), out string? error,
            isClass: s.Classes.ContainsKey);
        if (list is null)
        {
            MailLog.Warning($"access table {step.TableName}: result \"{value}\": {error}");
            return Decision.ServerConfigurationError;
        }
        return RestrictionEvaluator.Evaluate(s, list, subject, c, depth + 1);
    }

    /// <summary>
    /// HOLD, DISCARD, FILTER, REDIRECT and BCC, saved for the end of the data and logged as Postfix's smtpd logs them;
    /// DISCARD also accepts, as in Postfix. A REDIRECT or BCC without an address, or a FILTER without transport:destination,
    /// is Postfix's warning and nothing else.
    /// </summary>
    private static Decision? Saved(string action, string text, Subject subject, scoped in CheckContext c)
    {
        string upper = action.ToUpperInvariant();
        if (upper is not ("HOLD" or "DISCARD" or "FILTER" or "REDIRECT" or "BCC"))
        {
            return null;
        }
        if (upper == "FILTER" && !text.Contains(':'))
        {
            MailLog.Warning($"access table entry \"{action} {text}\" requires transport:destination");
            return Decision.Dunno;
        }
        if (upper is "REDIRECT" or "BCC" && !text.Contains('@'))
        {
            MailLog.Warning($"access table entry \"{action} {text}\" requires user@domain target");
            return Decision.Dunno;
        }
        string name = RestrictionEvaluator.ReplyName(subject, c);
        string what = RestrictionEvaluator.ReplyClass(subject);
        string detail = upper is "FILTER" or "REDIRECT" or "BCC" ? $"triggers {upper} {text}" : text.Length > 0 ? text : $"triggers {upper} action";
        LogWhatsup(upper.ToLowerInvariant(), subject, c, $"<{name}>: {what} {detail}");
        return upper switch
        {
            "HOLD" => Decision.Dunno with { Saved = new SavedActions(Hold: true) },
            "DISCARD" => Decision.Permit with { Saved = new SavedActions(Discard: true) },
            "FILTER" => Decision.Dunno with { Saved = new SavedActions(Filter: text) },
            "REDIRECT" => Decision.Dunno with { Saved = new SavedActions(Redirect: text) },
            _ => Decision.Dunno with { Saved = new SavedActions(Bcc: [text]) },
        };
    }

    /// <summary>Postfix's log_whatsup(): a WARN or INFO action's line, with what the session knows.</summary>
    private static void LogWhatsup(string what, Subject subject, scoped in CheckContext c, string text)
    {
        string queueId = c.Session?.QueueId is { Length: > 0 } id ? id : "NOQUEUE";
        string where = subject switch { Subject.Data => "DATA", Subject.EndOfData => "END-OF-MESSAGE", _ => "RCPT" };
        string helo = c.Helo is null ? "" : $" helo=<{c.Helo}>";
        string protocol = c.Session is null ? "" : $" proto={c.Session.ProtocolName}";
        MailLog.Info($"{queueId}: {what}: {where} from {c.Client.NamAddr}: {text}; from=<{c.SenderText}> to=<{c.RecipientText}>{protocol}{helo}");
    }

    /// <summary>A reply whose text may start with its own enhanced status code ("REJECT 5.7.2 go away").</summary>
    private static Decision Reply(int code, string dsn, Subject subject, scoped in CheckContext c, string text)
    {
        int space = text.IndexOf(' ');
        string first = space < 0 ? text : text[..space];
        if (IsEnhancedStatus(first))
        {
            dsn = first;
            text = space < 0 ? "" : text[space..].TrimStart();
        }
        return RestrictionEvaluator.Reject(code, dsn, subject, c, text.Length == 0 ? "Access denied" : text);
    }

    private static bool IsEnhancedStatus(string text)
    {
        string[] parts = text.Split('.');
        return parts.Length == 3 && parts[0] is "2" or "4" or "5"
            && parts[1].Length is > 0 and <= 3 && parts[1].All(char.IsAsciiDigit)
            && parts[2].Length is > 0 and <= 3 && parts[2].All(char.IsAsciiDigit);
    }
}
