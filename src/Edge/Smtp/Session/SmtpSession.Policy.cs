using System.Globalization;
using Edge.Mail;
using Edge.Restrictions.Policy;
using Edge.Smtp.Tls;

namespace Edge.Smtp.Session;

/// <summary>What policy scripts learn about the session beyond the client and the envelope (SMTPD_POLICY_README).</summary>
internal sealed partial class SmtpSession : ISessionDescription
{
    private long _declaredSize;
    private int _transactions;

    string ISessionDescription.ProtocolName => _esmtp ? "ESMTP" : "SMTP";

    string ISessionDescription.QueueId => _envelope.RecipientCount > 0 ? _envelope.Id.ToString() : "";

    int ISessionDescription.RecipientCount => _envelope.RecipientCount;

    /// <summary>The same for every request of one mail transaction, as Postfix's, so a policy can tie them together.</summary>
    string ISessionDescription.Instance => $"{GetHashCode():x}.{_transactions}";

    /// <summary>The SIZE the client declared; at the end of the message, its real size, as Postfix tells policies then.</summary>
    string ISessionDescription.Size => (_atEndOfData ? _cleanup.Size : _declaredSize).ToString(CultureInfo.InvariantCulture);

    MessageView? ISessionDescription.Message => _message;

    PeerCertificate? ISessionDescription.ClientCertificate => _clientCertificate;

    string ISessionDescription.ProtocolState => _earlyState ?? "RCPT";

    bool ISessionDescription.InTransaction => _envelope.Active;

    bool ISessionDescription.ImproperPipelining => _illPipelining;

    string ISessionDescription.EncryptionProtocol => _tls is null ? "" : TlsDescription.Version(_tls);

    string ISessionDescription.EncryptionCipher => _tls is null ? "" : _tls.NegotiatedCipherSuite.ToString();

    string ISessionDescription.EncryptionKeySize => _tls is null ? "0"
        : _tls.NegotiatedCipherSuite.ToString().Contains("_128_", StringComparison.Ordinal) ? "128" : "256";

    string ISessionDescription.ServerAddress => _server?.Address.Unmapped().ToString() ?? "";

    string ISessionDescription.ServerPort => _server?.Port.ToString(CultureInfo.InvariantCulture) ?? "";
}
