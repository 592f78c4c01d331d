using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Edge.Tests.Support;

/// <summary>A self-signed certificate for mx.edge.test written as PEM files, as an administrator would configure.</summary>
public static class TestCertificate
{
    public static (string CertFile, string KeyFile) WritePem(TempDirectory directory)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=mx.edge.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("mx.edge.test");
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        string certFile = directory.File("cert.pem");
        string keyFile = directory.File("key.pem");
        File.WriteAllText(certFile, certificate.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
        return (certFile, keyFile);
    }

    public static string MainCf(TempDirectory directory, string level = "may")
    {
        (string cert, string key) = WritePem(directory);
        return $"smtpd_tls_security_level = {level}\nsmtpd_tls_cert_file = {cert}\nsmtpd_tls_key_file = {key}";
    }

    /// <summary>A certificate authority for client certificates: its certificate, with its key.</summary>
    public static X509Certificate2 CreateAuthority(string name)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using X509Certificate2 authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return Usable(authority);
    }

    /// <summary>A client certificate for <paramref name="name"/>, signed by <paramref name="issuer"/> or, without one, by itself.</summary>
    public static X509Certificate2 CreateClient(string name, X509Certificate2? issuer = null)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (issuer is null)
        {
            using X509Certificate2 self = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            return Usable(self);
        }
        byte[] serial = RandomNumberGenerator.GetBytes(8);
        using X509Certificate2 signed = request.Create(issuer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        return Usable(withKey);
    }

    /// <summary>Postfix's fingerprint of a certificate in smtpd_tls_fingerprint_digest = sha256: hex bytes joined by colons.</summary>
    public static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', SHA256.HashData(certificate.RawData).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>The certificate and key as OpenSSL (under SslStream on Linux) can use them: through PKCS#12.</summary>
    private static X509Certificate2 Usable(X509Certificate2 certificate) =>
        X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
}
