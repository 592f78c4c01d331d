using System.Net.Security;
using System.Runtime.InteropServices;

namespace Edge.Smtp.Tls;

/// <summary>
/// What an OpenSSL cipher string selects, asked of the OpenSSL that SslStream runs on, as the IANA suites a
/// <see cref="CipherSuitesPolicy"/> takes. Postfix hands its cipher list ("…:!excluded") to OpenSSL the same way, so
/// the names, aliases (aNULL, 3DES, CAMELLIA, kRSA, SHA1…) and the system's security level mean what they mean there.
/// </summary>
internal static partial class OpenSslCipherList
{
    private const string Ssl = "libssl.so.3";
    private const string Crypto = "libcrypto.so.3";

    /// <summary>
    /// The suites <paramref name="cipherString"/> selects for TLS 1.2 and earlier, with TLS 1.3's (which cipher strings
    /// do not choose, in OpenSSL as in Postfix); null when it selects no TLS 1.2 cipher at all.
    /// </summary>
    public static IReadOnlyList<TlsCipherSuite>? Expand(string cipherString)
    {
        var suites = new List<TlsCipherSuite>();
        return ForEach(cipherString, cipher => suites.Add((TlsCipherSuite)SSL_CIPHER_get_protocol_id(cipher))) ? suites : null;
    }

    /// <summary>
    /// The suite as Postfix names it in logs, Received: headers and the {cipher} milter macro: OpenSSL's name, and the
    /// secret bits it uses of its algorithm's ("ECDHE-RSA-AES256-GCM-SHA384", 256, 256); the IANA name and no bits for
    /// a suite this OpenSSL does not know.
    /// </summary>
    public static (string Name, int Bits, int AlgorithmBits) Describe(TlsCipherSuite suite) =>
        Known.Value.TryGetValue(suite, out (string, int, int) known) ? known : (suite.ToString(), 0, 0);

    private static readonly Lazy<Dictionary<TlsCipherSuite, (string, int, int)>> Known = new(() =>
    {
        var known = new Dictionary<TlsCipherSuite, (string, int, int)>();
        ForEach("ALL:COMPLEMENTOFALL:@SECLEVEL=0", cipher =>
        {
            int bits = SSL_CIPHER_get_bits(cipher, out int algorithmBits);
            known[(TlsCipherSuite)SSL_CIPHER_get_protocol_id(cipher)] = (Marshal.PtrToStringUTF8(SSL_CIPHER_get_name(cipher)) ?? "", bits, algorithmBits);
        });
        return known;
    });

    /// <summary>Each cipher (an SSL_CIPHER, valid during the call) a context with <paramref name="cipherString"/> offers; false when it selects no TLS 1.2 cipher.</summary>
    private static bool ForEach(string cipherString, Action<nint> visit)
    {
        nint context = SSL_CTX_new(TLS_server_method());
        if (context == 0)
        {
            throw new InvalidOperationException("OpenSSL could not make a TLS context");
        }
        try
        {
            if (SSL_CTX_set_cipher_list(context, cipherString) != 1)
            {
                ERR_clear_error();
                return false;
            }
            nint ciphers = SSL_CTX_get_ciphers(context);
            for (int i = 0, count = OPENSSL_sk_num(ciphers); i < count; i++)
            {
                visit(OPENSSL_sk_value(ciphers, i));
            }
            return true;
        }
        finally
        {
            SSL_CTX_free(context);
        }
    }

    [LibraryImport(Ssl)]
    private static partial nint SSL_CIPHER_get_name(nint cipher);

    [LibraryImport(Ssl)]
    private static partial int SSL_CIPHER_get_bits(nint cipher, out int algorithmBits);

    [LibraryImport(Ssl)]
    private static partial nint TLS_server_method();

    [LibraryImport(Ssl)]
    private static partial nint SSL_CTX_new(nint method);

    [LibraryImport(Ssl)]
    private static partial void SSL_CTX_free(nint context);

    [LibraryImport(Ssl, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SSL_CTX_set_cipher_list(nint context, string cipherString);

    [LibraryImport(Ssl)]
    private static partial nint SSL_CTX_get_ciphers(nint context);

    [LibraryImport(Ssl)]
    private static partial ushort SSL_CIPHER_get_protocol_id(nint cipher);

    [LibraryImport(Crypto)]
    private static partial int OPENSSL_sk_num(nint stack);

    [LibraryImport(Crypto)]
    private static partial nint OPENSSL_sk_value(nint stack, int index);

    [LibraryImport(Crypto)]
    private static partial void ERR_clear_error();
}
