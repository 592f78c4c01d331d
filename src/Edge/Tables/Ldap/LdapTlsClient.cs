using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Edge.Tables.Remote;

namespace Edge.Tables.Ldap;

/// <summary>
/// TLS for an ldap: table's connections, as ldap_table(5) sets it: from the start for an ldaps:// server, after the
/// StartTLS operation with start_tls = yes. With tls_require_cert = yes the server's certificate must be valid for the
/// name server_host gives and issued by a CA of tls_ca_cert_file or tls_ca_cert_dir (the system's when neither is
/// set); with no, as OpenLDAP's "never", any certificate is taken (the connection is still encrypted).
/// </summary>
internal sealed class LdapTlsClient
{
    private readonly LdapTls _settings;
    private readonly X509Certificate2Collection _authorities = [];
    private readonly X509Certificate2Collection _client = [];

    /// <exception cref="TableException">A certificate file cannot be read.</exception>
    public LdapTlsClient(LdapTls settings, Sql.TableConfigFile file)
    {
        _settings = settings;
        try
        {
            if (settings.CaFile is not null)
            {
                _authorities.ImportFromPemFile(settings.CaFile);
            }
            if (settings.CaDirectory is not null)
            {
                foreach (string pem in Directory.EnumerateFiles(settings.CaDirectory).Where(f => f.EndsWith(".pem", StringComparison.OrdinalIgnoreCase)
                    || f.EndsWith(".crt", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(f).Contains('.') && char.IsAsciiHexDigit(Path.GetFileName(f)[0])))
                {
                    _authorities.ImportFromPemFile(pem);
                }
            }
            if (settings.CertFile is not null)
            {
                _client.Add(X509Certificate2.CreateFromPemFile(settings.CertFile, settings.KeyFile));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw file.Error(settings.CertFile is not null && e.Message.Contains("key", StringComparison.OrdinalIgnoreCase) ? "tls_key" : "tls_ca_cert_file",
                $"cannot read: {e.Message}");
        }
    }

    /// <summary>The connection to <paramref name="server"/>, secured as the table wants; unchanged when it wants no TLS.</summary>
    public async Task<Stream> SecureAsync(LdapServer server, Stream stream, CancellationToken cancellationToken)
    {
        if (!server.Tls && !_settings.StartTls)
        {
            return stream;
        }
        if (!server.Tls)
        {
            await LdapProtocol.StartTlsAsync(new TableConnection(stream), cancellationToken);
        }
        var tls = new SslStream(stream, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = server.Host,
                ClientCertificates = _client,
                EnabledSslProtocols = SslProtocols.None,
                RemoteCertificateValidationCallback = Validate,
            }, cancellationToken);
        }
        catch (AuthenticationException e)
        {
            await tls.DisposeAsync();
            throw new IOException($"TLS with {server.Host}: {e.Message}", e);
        }
        return tls;
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (!_settings.RequireCert || errors == SslPolicyErrors.None && _authorities.Count == 0)
        {
            return true;
        }
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }
        if (_authorities.Count == 0)
        {
            return errors == SslPolicyErrors.None;
        }
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            // The intermediate certificates the server sent.
            foreach (X509ChainElement element in chain.ChainElements.Skip(1))
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        return custom.Build(new X509Certificate2(certificate));
    }
}
