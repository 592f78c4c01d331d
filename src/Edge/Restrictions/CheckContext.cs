using System.Text;
using Edge.Mail;
using Edge.Resolve;
using Edge.Restrictions.Policy;
using Edge.Tables;

namespace Edge.Restrictions;

/// <summary>
/// What restrictions look at when a recipient is checked: the client, its HELO name and the envelope so far.
/// The addresses stay bytes from the command line; text is made only for a table lookup or a reply.
/// </summary>
internal readonly ref struct CheckContext(Peer client, bool clientInMynetworks, string? helo,
    ReadOnlySpan<byte> sender, ReadOnlySpan<byte> recipient, Resolution recipientResolution, DnsChecks? dns,
    AddressClassifier classifier, PolicyAnswers? answers = null, ISessionDescription? session = null, string? etrnDomain = null,
    TableAnswers? tables = null)
{
    public Peer Client { get; } = client;
    public bool ClientInMynetworks { get; } = clientInMynetworks;
    public string? Helo { get; } = helo;
    public ReadOnlySpan<byte> Sender { get; } = sender;
    public ReadOnlySpan<byte> Recipient { get; } = recipient;
    public AddressClass RecipientClass { get; } = recipientResolution.Class;

    /// <summary>The recipient's local part still routes it on (user%host, host!user, "user@host"): allow_untrusted_routing.</summary>
    public bool RecipientRouted { get; } = recipientResolution.Routed;

    /// <summary>The DNS answers fetched so far for this session's restrictions; null before the first.</summary>
    public DnsChecks? Dns { get; } = dns;

    /// <summary>To tell whether Edge is the final destination of the sender's domain.</summary>
    public AddressClassifier Classifier { get; } = classifier;

    /// <summary>The policy answers fetched for the command being checked; null before the first.</summary>
    public PolicyAnswers? Answers { get; } = answers;

    /// <summary>The remote tables' answers fetched for the command being checked; null where the checks may wait for a table.</summary>
    public TableAnswers? Tables { get; } = tables;

    /// <summary>The session's protocol, queue ID, TLS and server address, for policy requests.</summary>
    public ISessionDescription? Session { get; } = session;

    /// <summary>The domain an ETRN command names, for smtpd_etrn_restrictions; null otherwise.</summary>
    public string? EtrnDomain { get; } = etrnDomain;

    public string SenderText => Encoding.UTF8.GetString(Sender);
    public string RecipientText => Encoding.UTF8.GetString(Recipient);
}
