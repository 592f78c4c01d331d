namespace Edge.Delivery.Smtp;

/// <summary>
/// smtp_tls_security_level, as far as Edge's client implements it. Neither level verifies the server's
/// certificate: Postfix's "may" and "encrypt" do not either.
/// </summary>
internal enum SmtpTlsLevel : byte
{
    /// <summary>Plaintext; STARTTLS is never sent.</summary>
    None,
    /// <summary>STARTTLS when offered; plaintext otherwise, and after a failed handshake.</summary>
    May,
    /// <summary>STARTTLS required: a server that does not offer it, or fails it, is skipped.</summary>
    Encrypt,
}
