using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Edge.Logging;
using Edge.Mail;
using Edge.Smtp.Auth;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Session;

/// <summary>
/// SMTP AUTH (RFC 4954) as Postfix's smtpd does it with smtpd_sasl_type = dovecot: the EHLO AUTH line lists what the
/// auth server offers and the security options allow (none before STARTTLS with smtpd_tls_auth_only), and AUTH
/// relays the client's responses to Dovecot until it says OK, FAIL or nothing, with Postfix's replies and log lines.
/// </summary>
internal sealed partial class SmtpSession
{
    /// <summary>The auth server's mechanisms, fetched before the greeting; null when AUTH is not offered to this client.</summary>
    private IReadOnlyList<SaslMechanism>? _saslMechanisms;
    private string _saslMethod = "";
    private string _saslUsername = "";
    /// <summary>MAIL FROM's AUTH= address (as xtext), for this transaction; null without one or for AUTH=&lt;&gt;.</summary>
    private string? _saslSender;

    string Restrictions.Policy.ISessionDescription.SaslMethod => _saslMethod;
    string Restrictions.Policy.ISessionDescription.SaslUsername => _saslUsername;
    string Restrictions.Policy.ISessionDescription.SaslSender => _saslSender ?? "";

    /// <summary>
    /// smtpd_sasl_activate(): asks the auth server for its mechanisms. A server that cannot be reached is logged (by the
    /// client) and AUTH is not offered.
    /// </summary>
    private async ValueTask PrepareSaslAsync()
    {
        _saslMechanisms = _s.Sasl is { } sasl && !_s.EhloDiscard.Contains("AUTH") ? await sasl.Client.MechanismsAsync(_hardStop) : null;
    }

    /// <summary>Whether SASL is on for this session now: as Postfix 3.7, not before STARTTLS with smtpd_tls_auth_only.</summary>
    private bool SaslActive => _s.Sasl is { } sasl && _saslMechanisms is not null && !(sasl.TlsAuthOnly && _tls is null);

    /// <summary>
    /// The mechanisms for the EHLO AUTH line now; null when AUTH is not to be offered (smtpd_sasl_exceptions_networks
    /// hides it from the clients it names, who may still use it, as in Postfix).
    /// </summary>
    private string? OfferedMechanisms()
    {
        if (!SaslActive || _s.Sasl is not { } sasl || _saslMechanisms is not { } mechanisms || (_peer.Ip is { } ip && sasl.Exceptions.Contains(ip)))
        {
            return null;
        }
        string offered = sasl.Offered(mechanisms, _tls is not null);
        return offered.Length > 0 ? offered : null;
    }

    private bool Auth(ReadOnlySpan<byte> argument, ref Step step)
    {
        // As Postfix: the rate limit first, then the command's other checks.
        if (_s.Sasl is { } limited && RateExceeded(AnvilEvent.Auth, limited.RateLimit, "AUTH command rate limit exceeded"))
        {
            return Fail(Encoding.ASCII.GetBytes($"450 4.7.1 Error: too many AUTH commands from {_peer.Address}"));
        }
        if (_s.HeloRequired && _helo is null)
        {
            return Fail(Replies.SendHeloFirst);
        }
        if (!SaslActive || _s.Sasl is not { } sasl)
        {
            return Fail(Replies.AuthNotEnabled);
        }
        if (_envelope.Active)
        {
            return Fail(Replies.TransactionInProgress);
        }
        if (_saslUsername.Length > 0)
        {
            return Fail("503 5.5.1 Error: already authenticated"u8);
        }
        string[] words = Encoding.ASCII.GetString(argument).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length is < 1 or > 2)
        {
            return Fail("501 5.5.4 Syntax: AUTH mechanism"u8);
        }
        string mechanism = words[0];
        string? initial = words.Length == 2 ? words[1] : null;
        _awaited = async () =>
        {
            if (await AuthenticateAsync(sasl, mechanism, initial))
            {
                _stats.Succeeded(SmtpVerb.Auth);
            }
            else
            {
                _errors++;
            }
            await FlushAsync();
        };
        step = Step.Await;
        return true;
    }

    /// <summary>smtpd_sasl_authenticate(): the exchange with the client and the auth server; true once authenticated.</summary>
    private async Task<bool> AuthenticateAsync(SaslSettings sasl, string mechanism, string? initial)
    {
        string offered = sasl.Offered(_saslMechanisms!, _tls is not null);
        SaslReply reply;
        if (!offered.Split(' ').Contains(mechanism, StringComparer.OrdinalIgnoreCase))
        {
            // Postfix 3.7's words; later versions add the mechanism's name.
            reply = new SaslReply(SaslStatus.Fail, "Invalid authentication mechanism", null, 0);
        }
        else if (initial is not null && !IsBase64(initial))
        {
            reply = new SaslReply(SaslStatus.Fail, "Invalid base64 data in initial response", null, 0);
        }
        else
        {
            string local = _server?.Address.Unmapped().ToString() ?? "";
            reply = await sasl.Client.StartAsync(mechanism, sasl.Service, initial, _tls is not null, local, _peer.Address, _hardStop);
        }
        while (reply.Status == SaslStatus.More)
        {
            Reply.Line(Encoding.ASCII.GetBytes($"334 {reply.Text}"));
            await FlushAsync();
            string? response = await ReadSaslResponseAsync(sasl.ResponseLimit);
            if (response is null)
            {
                Reply.Line("500 5.5.6 SASL response limit exceeded"u8);
                return false;
            }
            if (response == "*")
            {
                MailLog.Warning($"{_peer.NamAddr}: SASL {mechanism} authentication aborted");
                Reply.Line("501 5.7.0 Authentication aborted"u8);
                return false;
            }
            reply = IsBase64(response)
                ? await sasl.Client.ContinueAsync(reply.Id, response, _hardStop)
                : new SaslReply(SaslStatus.Fail, "Invalid base64 data in continued response", null, reply.Id);
        }
        if (reply.Status != SaslStatus.Done)
        {
            string reason = reply.Text.Length > 0 ? reply.Text : "(reason unavailable)";
            MailLog.Warning($"{_peer.NamAddr}: SASL {Truncate(mechanism)} authentication failed: {reason}, sasl_username={Truncate(reply.User ?? "(unavailable)")}");
            Reply.Line(Encoding.UTF8.GetBytes(reply.Status == SaslStatus.Temporary
                ? $"454 4.7.0 Temporary authentication failure: {reason}"
                : $"535 5.7.8 Error: authentication failed: {reason}"));
            return false;
        }
        Reply.Line("235 2.7.0 Authentication successful"u8);
        _saslMethod = mechanism;
        _saslUsername = reply.User!;
        _submission = null;
        return true;
    }

    private static string Truncate(string text) => text.Length > 100 ? text[..100] : text;

    /// <summary>Postfix's is_valid_base64(): letters, digits, +, / and =, and nothing else ("=" alone is an empty response).</summary>
    private static bool IsBase64(string text) => text.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/' or '=');

    /// <summary>
    /// One line of the client's during AUTH, within smtpd_timeout; null when it is longer than smtpd_sasl_response_limit
    /// (the rest of it is skipped as an over-long command's is).
    /// </summary>
    private async Task<string?> ReadSaslResponseAsync(int limit)
    {
        while (true)
        {
            ArmDeadline();
            ReadResult result = await _input.ReadAsync();
            ThrowIfInterrupted();
            ReadOnlySequence<byte> buffer = result.Buffer;
            LineStatus status = LineFramer.TryReadLine(ref buffer, limit, out ReadOnlySequence<byte> line, out _, out bool skipRest);
            if (status != LineStatus.NeedMore)
            {
                string text = Encoding.ASCII.GetString(line);
                _input.AdvanceTo(buffer.Start);
                _deadline = 0;
                if (status == LineStatus.Truncated)
                {
                    _mode = skipRest ? Mode.SkipLine : _mode;
                    return null;
                }
                return text;
            }
            if (result.IsCompleted)
            {
                throw new IOException("lost connection");
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>
    /// comment_sanitize(): the text made safe inside a header comment: a backslash, a character that is not printable
    /// ASCII and a ")" without its "(" become "?", and a "(" left open is closed at the end.
    /// </summary>
    private static string CommentText(string text)
    {
        var safe = new StringBuilder(text.Length + 4);
        int open = 0;
        foreach (char c in text)
        {
            if (c == '\\' || c is < ' ' or > '~' || (c == ')' && open == 0))
            {
                safe.Append('?');
                continue;
            }
            open += c == '(' ? 1 : c == ')' ? -1 : 0;
            safe.Append(c);
        }
        return safe.Append(')', open).ToString();
    }

    /// <summary>
    /// MAIL FROM's AUTH= (smtpd_sasl_mail_opt()): taken as it is (made printable), for the log and policies, as
    /// Postfix takes it; AUTH=&lt;&gt; says nobody vouches for the sender.
    /// </summary>
    private void TakeAuthParameter(ReadOnlySpan<byte> value) =>
        _saslSender = value.SequenceEqual("<>"u8) ? null : Printable.Text(value);

    /// <summary>smtpd_whatsup()'s " sasl_username=&lt;alice&gt;" at the end of the mail filters' log lines, when the client authenticated.</summary>
    private string WhatsupSasl => _saslUsername.Length == 0 ? "" : $" sasl_username=<{_saslUsername}>";

    /// <summary>", sasl_method=PLAIN, sasl_username=alice" for the client= line, when the client authenticated.</summary>
    private string SaslLogFields => (_saslUsername.Length == 0 ? "" : $", sasl_method={_saslMethod}, sasl_username={_saslUsername}")
        + (_saslSender is null ? "" : $", sasl_sender={_saslSender}");
}
