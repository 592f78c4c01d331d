using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Edge.Config;

namespace Edge.Smtp.Tls;

/// <summary>
/// The SMTP server's TLS beyond the level and certificate: wrapper mode (port 465), the protocol versions, the ciphers
/// (null: OpenSSL's DEFAULT list, as SslStream uses), client certificates (asked for, required, and the CAs that make
/// one trusted), and what the Received: header and the log say. smtpd reads its smtpd_tls_* settings; postscreen's
/// STARTTLS reads tlsproxy's tlsproxy_tls_* ones, which have neither wrapper mode nor a Received: header.
/// </summary>
internal sealed record ServerTlsSettings(
    bool Wrapper,
    SslProtocols Protocols,
    CipherSuitesPolicy? Ciphers,
    bool AskClientCertificate,
    bool RequireClientCertificate,
    X509Certificate2Collection ClientAuthorities,
    bool ReceivedHeader,
    int LogLevel,
    HashAlgorithmName Digest)
{
    public static ServerTlsSettings None { get; } = new(false, SslProtocols.None, null, false, false, [], false, 0, HashAlgorithmName.SHA256);

    /// <summary>
    /// The handshake's options: the protocols and ciphers allowed, and a client certificate asked for when the settings
    /// say so. Any certificate is taken: whether it is trusted is decided after the handshake (ClientCertificates).
    /// </summary>
    public SslServerAuthenticationOptions HandshakeOptions(X509Certificate2? certificate) => new()
    {
        ServerCertificate = certificate,
        EnabledSslProtocols = Protocols,
        CipherSuitesPolicy = Ciphers,
        ClientCertificateRequired = AskClientCertificate,
        RemoteCertificateValidationCallback = static (_, _, _, _) => true,
    };

    /// <param name="enforced">TLS is required (smtpd_tls_security_level = encrypt, or wrapper mode).</param>
    /// <param name="role">The settings' prefix: smtpd, or tlsproxy.</param>
    public static ServerTlsSettings From(MainConfig config, bool enforced, string role = "smtpd")
    {
        // As Postfix's smtpd: the mandatory settings apply where TLS is required, the others where it is offered.
        string protocolsName = enforced ? $"{role}_tls_mandatory_protocols" : $"{role}_tls_protocols";
        SslProtocols protocols = TlsProtocolList.Parse(config.Get(protocolsName), out string? error)
            ?? throw config.Error(protocolsName, error!);
        string ciphersName = enforced ? $"{role}_tls_mandatory_ciphers" : $"{role}_tls_ciphers";
        string grade = config.Get(ciphersName).ToLowerInvariant();
        if (grade is not ("medium" or "high"))
        {
            throw config.Error(ciphersName, $"\"{grade}\" is not supported by Edge: it uses the system OpenSSL's default cipher list, " +
                "which holds only high-grade ciphers (what medium and high give on it); export, low and null ciphers are not available");
        }
        bool ask = config.GetBool($"{role}_tls_ask_ccert");
        // Without TLS required, Postfix ignores smtpd_tls_req_ccert (ConfigurationCheck warns).
        bool require = config.GetBool($"{role}_tls_req_ccert");
        string digest = config.Get($"{role}_tls_fingerprint_digest").ToLowerInvariant();
        bool smtpd = role == "smtpd";
        return new ServerTlsSettings(smtpd && config.GetBool("smtpd_tls_wrappermode"), protocols, CipherPolicy(config, enforced, role),
            ask || (enforced && require), enforced && require, Authorities(config, role), smtpd && config.GetBool("smtpd_tls_received_header"),
            config.GetInt($"{role}_tls_loglevel"), digest switch
            {
                "md5" => HashAlgorithmName.MD5,
                "sha1" => HashAlgorithmName.SHA1,
                "sha256" => HashAlgorithmName.SHA256,
                "sha512" => HashAlgorithmName.SHA512,
                _ => throw config.Error($"{role}_tls_fingerprint_digest", $"unsupported digest \"{digest}\" (md5, sha1, sha256 or sha512)"),
            });
    }

    /// <summary>The exclusion parameters that apply: smtpd_tls_exclude_ciphers always, the mandatory one where TLS is required.</summary>
    public static string[] ExclusionParameters(bool enforced, string role = "smtpd") =>
        enforced ? [$"{role}_tls_exclude_ciphers", $"{role}_tls_mandatory_exclude_ciphers"] : [$"{role}_tls_exclude_ciphers"];

    /// <summary>
    /// The cipher list less the exclusions, as Postfix's tls_set_ciphers() builds it ("DEFAULT:!aNULL:!3DES"): OpenSSL
    /// decides what each name or alias takes out; TLS 1.3's suites stay, as they do in Postfix. Null without exclusions.
    /// </summary>
    private static CipherSuitesPolicy? CipherPolicy(MainConfig config, bool enforced, string role)
    {
        var cipherList = new System.Text.StringBuilder("DEFAULT");
        string last = "";
        foreach (string name in ExclusionParameters(enforced, role))
        {
            foreach (string token in Exclusions(config, name))
            {
                if ("!+-@".Contains(token[0]))
                {
                    throw config.Error(name, $"invalid unary '!+-@' in cipher exclusion list: \"{token}\"");
                }
                cipherList.Append(":!").Append(token);
                last = name;
            }
        }
        if (last.Length == 0 || !OperatingSystem.IsLinux())
        {
            return last.Length == 0 ? null : throw config.Error(last, "cipher exclusions need OpenSSL (Linux)");
        }
        IReadOnlyList<TlsCipherSuite> suites = OpenSslCipherList.Expand(cipherList.ToString())
            ?? throw config.Error(last, $"\"{cipherList}\" leaves no TLS 1.2 cipher: clients that cannot do TLS 1.3 could never start TLS");
        return new CipherSuitesPolicy(suites);
    }

    /// <summary>An exclusion list's names, split at white space, commas and colons as Postfix splits them.</summary>
    public static IEnumerable<string> Exclusions(MainConfig config, string name) =>
        config.GetList(name).SelectMany(item => item.Split(':', StringSplitOptions.RemoveEmptyEntries));

    /// <summary>smtpd_tls_CAfile and smtpd_tls_CApath: the CAs a client certificate must chain to, to be trusted.</summary>
    private static X509Certificate2Collection Authorities(MainConfig config, string role)
    {
        var authorities = new X509Certificate2Collection();
        string file = config.Get($"{role}_tls_CAfile");
        try
        {
            if (file.Length > 0)
            {
                authorities.ImportFromPemFile(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw config.Error($"{role}_tls_CAfile", $"cannot load {file}: {e.Message}");
        }
        string path = config.Get($"{role}_tls_CApath");
        if (path.Length == 0)
        {
            return authorities;
        }
        if (!Directory.Exists(path))
        {
            throw config.Error($"{role}_tls_CApath", $"{path} is not a directory");
        }
        foreach (string candidate in Directory.EnumerateFiles(path))
        {
            try
            {
                authorities.ImportFromPemFile(candidate);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                // c_rehash directories hold other files too; a file that is not a certificate is not a CA.
            }
        }
        return authorities;
    }

    /// <summary>
    /// The server certificate ($role_tls_cert_file, with $role_tls_key_file), as SslStream takes it; throws the
    /// configuration error when none is set (TLS was enabled by <paramref name="levelName"/>) or it cannot be loaded.
    /// </summary>
    public static X509Certificate2 LoadCertificate(MainConfig config, string role, string levelName)
    {
        string certFile = config.Get($"{role}_tls_cert_file");
        string keyFile = config.Get($"{role}_tls_key_file");
        if (certFile.Length == 0)
        {
            throw config.Error($"{role}_tls_cert_file", $"TLS is enabled by {levelName} but no certificate is configured");
        }
        try
        {
            return FromPem(certFile, keyFile.Length == 0 ? null : keyFile);
        }
        catch (Exception e) when (IsLoadFailure(e))
        {
            throw config.Error($"{role}_tls_cert_file", $"cannot load certificate {certFile} with key {keyFile}: {e.Message}");
        }
    }

    /// <summary>A PEM certificate and its key (in the certificate's file when <paramref name="keyFile"/> is null), as SslStream takes it.</summary>
    public static X509Certificate2 FromPem(string certFile, string? keyFile)
    {
        using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        // SslStream on Linux needs the key in a form it can hand to OpenSSL: round-trip through PKCS#12.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Whether <see cref="FromPem"/> failed for a reason the administrator can fix (the file, its access, its content).</summary>
    public static bool IsLoadFailure(Exception e) =>
        e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException;
}
