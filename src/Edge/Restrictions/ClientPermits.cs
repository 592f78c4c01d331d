using Edge.Restrictions.Policy;
using Edge.Tables;

namespace Edge.Restrictions;

/// <summary>
/// What permit_sasl_authenticated, permit_tls_clientcerts and permit_tls_all_clientcerts ask of a session, in the
/// restrictions and in local_header_rewrite_clients alike.
/// </summary>
internal static class ClientPermits
{
    /// <summary>As Postfix's permit_sasl_auth(): a login by the ANONYMOUS mechanism vouches for nobody.</summary>
    public static bool SaslAuthenticated(ISessionDescription? session) =>
        session is { SaslUsername.Length: > 0 } && !session.SaslMethod.Equals("ANONYMOUS", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// As Postfix's permit_tls_clientcerts(): a certificate whose fingerprint relay_clientcerts lists, or with
    /// <paramref name="all"/> (permit_tls_all_clientcerts) any certificate a CA of smtpd_tls_CAfile vouches for.
    /// </summary>
    public static bool Certificate(ISessionDescription? session, TableList relayClientCerts, bool all) =>
        session?.ClientCertificate is { } certificate && ((all && certificate.Trusted)
            || (relayClientCerts.Find([certificate.PublicKeyFingerprint]) ?? relayClientCerts.Find([certificate.Fingerprint])) is not null);
}
