using Edge.Queue;

namespace Edge.Cleanup;

/// <summary>
/// Where the message in cleanup comes from: the client as the queue file records it, the HELO name it gave (null
/// when it gave none), its TLS session, and whether cleanup writes a Received: header for it (SMTP) or not (mail
/// Edge writes itself), and whether its headers are rewritten in the local context (Edge's own mail, a client in
/// local_header_rewrite_clients) or the remote one. <see cref="AuthenticatedSender"/>: the SMTP AUTH user the Received:
/// header names (smtpd_sasl_authenticated_header), or null. <see cref="TlsSummary"/> and <see cref="TlsClient"/>: the
/// Received: header's comments on the TLS session and the client's certificate (smtpd_tls_received_header), or null.
/// <see cref="Userid"/>: for mail sendmail submitted, the user who ran it, which the Received: header names instead of
/// a client ("by host (Edge, from userid N)"), as Postfix's pickup has it.
/// </summary>
internal sealed record Submission(EnvelopeRecord.Client Client, string? Helo, string? TlsSummary, bool Received, bool LocalHeaders = true,
    string? AuthenticatedSender = null, string? TlsClient = null, uint? Userid = null);
