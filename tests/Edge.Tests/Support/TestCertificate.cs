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
}
