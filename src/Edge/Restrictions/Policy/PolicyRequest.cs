using System.Text;
using Jurassic;
using Jurassic.Library;

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

    /// <summary>The request as the script's argument: a plain object with one string property per attribute.</summary>
    public ObjectInstance ToObject(ScriptEngine engine)
    {
        ObjectInstance request = engine.Object.Construct();
        foreach ((string name, string value) in _attributes)
        {
            request[name] = value;
        }
        return request;
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
