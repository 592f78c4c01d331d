namespace Edge.Dns;

/// <summary>The RCODE values the resolver tells apart (RFC 1035 §4.1.1).</summary>
internal static class DnsResponseCode
{
    public const int NoError = 0;
    public const int FormatError = 1;
    public const int ServerFailure = 2;
    public const int NameError = 3;
    public const int Refused = 5;
}
