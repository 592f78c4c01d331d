using System.Text;
using Jint.Native;

namespace Edge.Restrictions.Policy;

/// <summary>
/// What a policy is asked: the attributes of Postfix's policy delegation protocol (SMTPD_POLICY_README), every
/// name present, empty when Edge has no value (no SASL, no client certificates), so that scripts written
/// for a check_policy_service server find what they expect.
/// </summary>
internal sealed class PolicyRequest
{
    private readonly List<KeyValuePair<string, string>> _attributes = new(32);

    private void Add(string name, string value) => _attributes.Add(new(name, value));

    /// <summary>The attributes, one "name=value" per line, as the protocol sends them.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach ((string name, string value) in _attributes)
        {
            text.Append(name).Append('=').Append(value).Append('\n');
        }
        return text.ToString();
    }

    public static PolicyRequest Build(scoped in CheckContext c, Subject subject)
    {
        ISessionDescription? session = c.Session;
        var request = new PolicyRequest();
        request.Add("request", "smtpd_access_policy");
        request.Add("protocol_state", subject == Subject.Data ? "DATA" : "RCPT");
        request.Add("protocol_name", session?.ProtocolName ?? "SMTP");
        request.Add("helo_name", c.Helo ?? "");
        request.Add("queue_id", session?.QueueId ?? "");
        request.Add("sender", c.SenderText);
        request.Add("recipient", c.RecipientText);
        request.Add("recipient_count", (session?.RecipientCount ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Add("client_address", c.Client.Address);
        request.Add("client_name", c.Client.Name);
        request.Add("reverse_client_name", c.Client.ReverseName);
        request.Add("client_port", c.Client.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Add("instance", session?.Instance ?? "");
        request.Add("sasl_method", "");
        request.Add("sasl_username", "");
        request.Add("sasl_sender", "");
        request.Add("size", session?.Size ?? "0");
        request.Add("ccert_subject", "");
        request.Add("ccert_issuer", "");
        request.Add("ccert_fingerprint", "");
        request.Add("ccert_pubkey_fingerprint", "");
        request.Add("encryption_protocol", session?.EncryptionProtocol ?? "");
        request.Add("encryption_cipher", session?.EncryptionCipher ?? "");
        request.Add("encryption_keysize", session?.EncryptionKeySize ?? "0");
        request.Add("etrn_domain", "");
        request.Add("stress", "");
        request.Add("server_address", session?.ServerAddress ?? "");
        request.Add("server_port", session?.ServerPort ?? "");
        request.Add("policy_context", "");
        request.Add("mail_version", "Edge");
        return request;
    }

    /// <summary>A request of the attributes given (edge policy test): every attribute Postfix sends is there, empty unless given.</summary>
    public static PolicyRequest From(IEnumerable<KeyValuePair<string, string>> attributes)
    {
        var request = new PolicyRequest();
        var given = attributes.ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        foreach (string name in Names)
        {
            request.Add(name, given.Remove(name, out string? value) ? value : name == "request" ? "smtpd_access_policy" : "");
        }
        foreach ((string name, string value) in given)
        {
            request.Add(name, value);
        }
        return request;
    }

    /// <summary>The attributes of Postfix's policy protocol, in the order it sends them.</summary>
    private static readonly string[] Names =
    [
        "request", "protocol_state", "protocol_name", "helo_name", "queue_id", "sender", "recipient", "recipient_count",
        "client_address", "client_name", "reverse_client_name", "client_port", "instance", "sasl_method", "sasl_username",
        "sasl_sender", "size", "ccert_subject", "ccert_issuer", "ccert_fingerprint", "ccert_pubkey_fingerprint",
        "encryption_protocol", "encryption_cipher", "encryption_keysize", "etrn_domain", "stress", "server_address",
        "server_port", "policy_context", "mail_version",
    ];

    /// <summary>The request as the script's argument: one string property per attribute, set on the object the engine keeps for it.</summary>
    public void Fill(JsObject target)
    {
        foreach ((string name, string value) in _attributes)
        {
            target.Set(name, value);
        }
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
}
