using System.Net;

namespace Edge.Mail;

internal static class AddressForms
{
    /// <summary>An IPv4 client on a dual-stack socket as the IPv4 address it is ("::ffff:192.0.2.1" as "192.0.2.1").</summary>
    public static IPAddress Unmapped(this IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
