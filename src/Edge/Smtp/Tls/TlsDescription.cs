using System.Net.Security;
using System.Security.Authentication;

namespace Edge.Smtp.Tls;

/// <summary>A TLS session as Postfix's logs, Received: headers and milter macros describe it.</summary>
internal static class TlsDescription
{
    /// <summary>The protocol version ("TLSv1.3").</summary>
    public static string Version(SslStream stream) => stream.SslProtocol switch
    {
        SslProtocols.Tls13 => "TLSv1.3",
        SslProtocols.Tls12 => "TLSv1.2",
        _ => stream.SslProtocol.ToString(),
    };

    /// <summary>"TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)".</summary>
    public static string Summary(SslStream stream)
    {
        (string cipher, int bits, int algorithmBits) = OpenSslCipherList.Describe(stream.NegotiatedCipherSuite);
        return $"{Version(stream)} with cipher {cipher} ({bits}/{algorithmBits} bits)";
    }
}
