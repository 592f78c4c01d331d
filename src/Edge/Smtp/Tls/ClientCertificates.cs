using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Edge.Restrictions.Policy;

namespace Edge.Smtp.Tls;

/// <summary>The client's certificate as the restrictions, policies and the Received: header see it.</summary>
internal static class ClientCertificates
{
    /// <summary>Whether <paramref name="certificate"/> chains to smtpd_tls_CAfile/CApath, its names, and its fingerprints.</summary>
    public static PeerCertificate Describe(X509Certificate2 certificate, ServerTlsSettings settings)
    {
        bool trusted = false;
        if (settings.ClientAuthorities.Count > 0)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(settings.ClientAuthorities);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            trusted = chain.Build(certificate);
        }
        return new PeerCertificate(trusted, certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false),
            certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: true),
            Colons(CryptographicOperations.HashData(settings.Digest, certificate.RawData)),
            Colons(CryptographicOperations.HashData(settings.Digest, certificate.PublicKey.ExportSubjectPublicKeyInfo())));
    }

    /// <summary>Postfix's fingerprint form: upper-case hex bytes joined by colons.</summary>
    private static string Colons(byte[] digest) => string.Join(':', digest.Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
}
