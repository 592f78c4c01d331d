using System.Text;
using Jint.Native;

namespace Edge.Restrictions.Policy;

/// <summary>
/// What a policy is asked: the attributes of Postfix's policy delegation protocol (SMTPD_POLICY_README), every
/// name present, empty when Edge has no value (no SASL, no client certificates), so that scripts written
/// for a check_policy_service server find what they expect. The attributes have fixed places, in the order the
/// protocol sends them; their names as JavaScript values are made once for every request.
/// </summary>
internal sealed class PolicyRequest
{
    /// <summary>The attributes of Postfix's policy protocol, in the order it sends them.</summary>
    private static readonly string[] Names =
    [
        "request", "protocol_state", "protocol_name", "helo_name", "queue_id", "sender", "recipient", "recipient_count",
        "client_address", "client_name", "reverse_client_name", "client_port", "instance", "sasl_method", "sasl_username",
        "sasl_sender", "size", "ccert_subject", "ccert_issuer", "ccert_fingerprint", "ccert_pubkey_fingerprint",
        "encryption_protocol", "encryption_cipher", "encryption_keysize", "etrn_domain", "stress", "server_address",
        "server_port", "policy_context", "mail_version",
    ];

    private static readonly JsString[] Keys = [.. Names.Select(name => new JsString(name))];

    /// <summary>Values most requests share, as JavaScript values made once.</summary>
    private static readonly JsString[] Common = [.. new[] { "smtpd_access_policy", "RCPT", "DATA", "ESMTP", "SMTP", "0", "Edge" }.Select(v => new JsString(v))];

    private readonly string[] _values = new string[Names.Length];

    /// <summary>Attributes beyond the protocol's (only <c>edge policy test</c> gives them).</summary>
    private List<KeyValuePair<string, string>>? _extra;

    private PolicyRequest()
    {
        Array.Fill(_values, "");
        _values[0] = "smtpd_access_policy";
    }

    /// <summary>At the end of the message, the message as policy scripts see it (endOfData(message)).</summary>
    public MessageView? Message { get; private set; }

    /// <summary>Shows the request the message (edge policy test --message): endOfData(message) sees it.</summary>
    public void Show(MessageView message) => Message = message;

    /// <summary>The stage the request is asked at ("RCPT", "DATA" …).</summary>
    public string ProtocolState => _values[1];

    /// <summary>The envelope sender and the recipient being checked, as the client gave them.</summary>
    public string Sender => _values[5];
    public string Recipient => _values[6];

    /// <summary>The attributes, one "name=value" per line, as the protocol sends them.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        for (int i = 0; i < Names.Length; i++)
        {
            text.Append(Names[i]).Append('=').Append(_values[i]).Append('\n');
        }
        foreach ((string name, string value) in _extra ?? [])
        {
            text.Append(name).Append('=').Append(value).Append('\n');
        }
        return text.ToString();
    }

    public static PolicyRequest Build(scoped in CheckContext c, Subject subject)
    {
        ISessionDescription? session = c.Session;
        var request = new PolicyRequest();
        string[] v = request._values;
        v[1] = subject switch { Subject.Data => "DATA", Subject.EndOfData => "END-OF-MESSAGE", _ => session?.ProtocolState ?? "RCPT" };
        v[2] = session?.ProtocolName ?? "SMTP";
        v[3] = c.Helo ?? "";
        v[4] = session?.QueueId ?? "";
        v[5] = c.SenderText;
        v[6] = c.RecipientText;
        v[7] = (session?.RecipientCount ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        v[8] = c.Client.Address;
        v[9] = c.Client.Name;
        v[10] = c.Client.ReverseName;
        v[11] = c.Client.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        v[12] = session?.Instance ?? "";
        v[13] = session?.SaslMethod ?? "";
        v[14] = session?.SaslUsername ?? "";
        v[15] = session?.SaslSender ?? "";
        v[16] = session?.Size ?? "0";
        if (session?.ClientCertificate is { } certificate)
        {
            (v[17], v[18], v[19], v[20]) = (certificate.SubjectCn, certificate.IssuerCn, certificate.Fingerprint, certificate.PublicKeyFingerprint);
        }
        v[21] = session?.EncryptionProtocol ?? "";
        v[22] = session?.EncryptionCipher ?? "";
        v[23] = session?.EncryptionKeySize ?? "0";
        v[24] = c.EtrnDomain ?? "";
        v[26] = session?.ServerAddress ?? "";
        v[27] = session?.ServerPort ?? "";
        v[29] = "Edge";
        request.Message = subject == Subject.EndOfData ? session?.Message : null;
        return request;
    }

    /// <summary>A request of the attributes given (edge policy test): every attribute Postfix sends is there, empty unless given.</summary>
    public static PolicyRequest From(IEnumerable<KeyValuePair<string, string>> attributes)
    {
        var request = new PolicyRequest();
        foreach ((string name, string value) in attributes)
        {
            int index = Array.IndexOf(Names, name);
            if (index >= 0)
            {
                request._values[index] = value;
            }
            else
            {
                (request._extra ??= []).Add(new(name, value));
            }
        }
        return request;
    }

    /// <summary>The request as the script's argument: one string property per attribute, set on the object the engine keeps for it.</summary>
    public void Fill(JsObject target)
    {
        for (int i = 0; i < Keys.Length; i++)
        {
            target.Set(Keys[i], Value(_values[i]));
        }
        foreach ((string name, string value) in _extra ?? [])
        {
            target.Set(name, value);
        }
    }

    private static JsValue Value(string value)
    {
        if (value.Length is > 0 and < 20)
        {
            foreach (JsString common in Common)
            {
                if (common.ToString() == value)
                {
                    return common;
                }
            }
        }
        return value;
    }
}

/// <summary>What a session tells policies beyond the restrictions' own context.</summary>
internal interface ISessionDescription
{
    string ProtocolName { get; }
    string QueueId { get; }
    int RecipientCount { get; }
    string Instance { get; }
    string Size { get; }
    string EncryptionProtocol { get; }
    string EncryptionCipher { get; }
    string EncryptionKeySize { get; }
    string ServerAddress { get; }
    string ServerPort { get; }

    /// <summary>The command the client, helo, sender and recipient lists are checked at: RCPT, or with smtpd_delay_reject = no CONNECT, HELO, EHLO or MAIL.</summary>
    string ProtocolState { get; }

    /// <summary>Whether MAIL FROM began a transaction (actions for the message are skipped outside one).</summary>
    bool InTransaction { get; }

    /// <summary>The client sent a command before it could have had the reply to the one before (reject_unauth_pipelining).</summary>
    bool ImproperPipelining { get; }

    /// <summary>The message, while smtpd_end_of_data_restrictions that run scripts are checked; null otherwise.</summary>
    MessageView? Message { get; }

    /// <summary>The client's TLS certificate; null without TLS or without one.</summary>
    PeerCertificate? ClientCertificate { get; }

    /// <summary>SMTP AUTH: the mechanism and the user the client authenticated as; empty when it did not.</summary>
    string SaslMethod { get; }
    string SaslUsername { get; }

    /// <summary>MAIL FROM's AUTH= address; empty without one.</summary>
    string SaslSender { get; }
}
