namespace Edge.Restrictions.Policy;

/// <summary>
/// The client's TLS certificate: whether it chains to smtpd_tls_CAfile/CApath (permit_tls_all_clientcerts), its
/// subject's and issuer's common names, and its certificate and public key fingerprints (relay_clientcerts) in
/// smtpd_tls_fingerprint_digest, as Postfix writes them.
/// </summary>
internal sealed record PeerCertificate(bool Trusted, string SubjectCn, string IssuerCn, string Fingerprint, string PublicKeyFingerprint);
