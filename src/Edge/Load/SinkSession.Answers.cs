using System.Globalization;
using Edge.Logging;
using Edge.Restrictions.Policy;

namespace Edge.Load;

internal sealed partial class SinkSession
{
    /// <summary>--defer and --reject's replies, by stage.</summary>
    private static readonly string[] Deferrals =
    [
        "450 4.7.1 Helo command rejected: try again later (edge sink)",
        "450 4.7.1 Sender address rejected: try again later (edge sink)",
        "450 4.2.0 Recipient address rejected: try again later (edge sink)",
        "450 4.7.1 Data command rejected: try again later (edge sink)",
        "451 4.3.0 Message not accepted: try again later (edge sink)",
    ];

    private static readonly string[] Rejections =
    [
        "550 5.7.1 Helo command rejected (edge sink)",
        "550 5.7.1 Sender address rejected (edge sink)",
        "550 5.1.1 Recipient address rejected (edge sink)",
        "554 5.7.1 Data command rejected (edge sink)",
        "554 5.7.1 Message rejected (edge sink)",
    ];

    /// <summary>Transactions begun in this connection, for the policy's instance attribute.</summary>
    private int _transactions;

    /// <summary>
    /// The answer at <paramref name="stage"/>, after its --delay: <paramref name="decided"/> when something answered
    /// already, else the policy's refusal, else --reject's and --defer's by chance; null to accept.
    /// </summary>
    private async ValueTask<string?> DecideAsync(SinkStage stage, string state, string? recipient, string? value, string? decided = null)
    {
        TimeSpan delay = _options.Delay[(int)stage];
        if (delay > TimeSpan.Zero)
        {
            // What the client is owed already goes out first: the delay is this reply's alone.
            await FlushAsync();
            await DelayAsync(delay);
        }
        if (decided is not null)
        {
            return decided;
        }
        if (sink.Policy is not null && await AskPolicyAsync(state, recipient, value) is { } refusal)
        {
            return refusal;
        }
        return Chance(_options.Reject[(int)stage]) ? Rejections[(int)stage]
            : Chance(_options.Defer[(int)stage]) ? Deferrals[(int)stage]
            : null;
    }

    private static bool Chance(double fraction) => fraction > 0 && (fraction >= 1 || Random.Shared.NextDouble() < fraction);

    /// <summary>The first --rcpt rule's reply for <paramref name="recipient"/>, or null.</summary>
    private string? RuleFor(string recipient)
    {
        foreach (RecipientRule rule in _options.RecipientRules)
        {
            if (rule.Match.IsMatch(recipient))
            {
                return rule.Reply;
            }
        }
        return null;
    }

    /// <summary>--greylist: 450 until the time has passed since the client address, sender and recipient were first seen together.</summary>
    private string? Greylisted(string recipient)
    {
        if (_options.Greylist is not { } wait)
        {
            return null;
        }
        string triplet = $"{_client?.Address}/{_sender?.ToLowerInvariant()}/{recipient.ToLowerInvariant()}";
        long now = Environment.TickCount64;
        long first = sink.Greylist.GetOrAdd(triplet, now);
        return now - first >= (long)wait.TotalMilliseconds ? null
            : $"450 4.2.0 <{recipient}>: Recipient address rejected: Greylisted, try again in {Math.Ceiling((wait.TotalMilliseconds - (now - first)) / 1000)} seconds (edge sink)";
    }

    /// <summary>The policy's answer at <paramref name="state"/> as a refusal (null: go on), when the script answers that stage.</summary>
    private async ValueTask<string?> AskPolicyAsync(string state, string? recipient = null, string? value = null)
    {
        if (sink.Policy is not { } policy || !sink.PolicyStates.Contains(state))
        {
            return null;
        }
        if (state == "MAIL")
        {
            _transactions++;
        }
        var attributes = new List<KeyValuePair<string, string>>
        {
            new("protocol_state", state),
            new("protocol_name", _esmtp ? "ESMTP" : "SMTP"),
            new("helo_name", state == "EHLO" ? value ?? "" : _helo ?? ""),
            new("sender", state == "MAIL" ? value ?? "" : _sender ?? ""),
            new("recipient", recipient ?? ""),
            new("recipient_count", state is "DATA" or "END-OF-MESSAGE" ? _recipients.ToString(CultureInfo.InvariantCulture) : "0"),
            new("client_address", _client?.Address.ToString() ?? ""),
            new("client_name", "unknown"),
            new("reverse_client_name", "unknown"),
            new("client_port", _client?.Port.ToString(CultureInfo.InvariantCulture) ?? ""),
            new("instance", $"{connection.Id:X}.{_transactions}"),
            new("size", state == "END-OF-MESSAGE" ? _contentBytes.ToString(CultureInfo.InvariantCulture) : "0"),
            new("server_address", _server?.Address.ToString() ?? ""),
            new("server_port", _server?.Port.ToString(CultureInfo.InvariantCulture) ?? ""),
        };
        if (_tls is not null)
        {
            attributes.Add(new("encryption_protocol", Smtp.Tls.TlsDescription.Version(_tls)));
            (string cipher, int bits, _) = Smtp.Tls.OpenSslCipherList.Describe(_tls.NegotiatedCipherSuite);
            attributes.Add(new("encryption_cipher", cipher));
            attributes.Add(new("encryption_keysize", bits.ToString(CultureInfo.InvariantCulture)));
        }
        var request = PolicyRequest.From(attributes);
        // Off the socket's thread: a script runs for up to edge_policy_time_limit, and the thread serves other
        // connections (and, at connect, takes new ones).
        await Task.Yield();
        if (state == "END-OF-MESSAGE" && HeldMessage() is { } message)
        {
            request.Show(message);
        }
        return Refusal(policy, await policy.AskAsync(request, connection.Closed));
    }

    /// <summary>
    /// An access(5) action as the sink carries it out: REJECT, DEFER (and DEFER_IF_PERMIT: the sink permits everything
    /// else) and 4XX/5XX replies refuse, as Postfix's access_map_reject_code and access_map_defer_code say; OK, DUNNO and
    /// the actions that act on a queued message (HOLD, DISCARD, FILTER, PREPEND …) accept, since the sink queues nothing.
    /// A restriction name the sink cannot evaluate is Postfix's "451 4.3.5 Server configuration error", logged.
    /// </summary>
    private static string? Refusal(PolicyScript policy, string? action)
    {
        string text = action?.Trim() ?? "";
        int space = text.IndexOf(' ');
        string verb = (space < 0 ? text : text[..space]).ToUpperInvariant();
        string reason = space < 0 ? "" : text[(space + 1)..].Trim();
        switch (verb)
        {
            case "" or "DUNNO" or "OK" or "PERMIT" or "DEFER_IF_REJECT" or "HOLD" or "DISCARD" or "FILTER" or "REDIRECT" or "BCC"
                or "PREPEND" or "WARN" or "INFO" or "DELAY":
                return null;
            case "REJECT":
                return WithStatus("554", reason.Length > 0 ? reason : "Access denied");
            case "DEFER" or "DEFER_IF_PERMIT":
                return WithStatus("450", reason.Length > 0 ? reason : "Service unavailable");
        }
        if (verb.Length == 3 && verb[0] is '4' or '5' && verb.All(char.IsAsciiDigit))
        {
            return WithStatus(verb, reason);
        }
        MailLog.Warning($"edge sink: check_policy_script {policy.Path}: \"{text}\" is not an action the sink can carry out", "sink");
        return "451 4.3.5 Server configuration error";
    }

    /// <summary>The reply with <paramref name="code"/>: the text's own enhanced status code when it starts with one of the code's class, else X.7.1.</summary>
    private static string WithStatus(string code, string text)
    {
        int space = text.IndexOf(' ');
        string first = space < 0 ? text : text[..space];
        bool enhanced = first.Length >= 5 && first[0] == code[0] && first[1] == '.' && first.Count(c => c == '.') == 2
            && first.All(c => c == '.' || char.IsAsciiDigit(c));
        return enhanced ? $"{code} {text}" : $"{code} {code[0]}.7.1 {text}";
    }
}
