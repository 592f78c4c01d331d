using System.Text;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>smtpd_upstream_proxy_protocol = haproxy through real sockets: the proxied client is the client.</summary>
public class ProxyProtocolTests
{
    // The proxied clients' names are ClientNameTests' subject: here they stay "unknown" without asking DNS.
    private const string Haproxy = "smtpd_upstream_proxy_protocol = haproxy\nsmtpd_upstream_proxy_timeout = 2s\nmynetworks = 127.0.0.0/8\nsmtpd_peername_lookup = no";

    private static byte[] V2(byte[] source, byte[] destination, ushort sourcePort, ushort destinationPort)
    {
        bool v6 = source.Length == 16;
        var header = new List<byte>("\r\n\r\n\0\r\nQUIT\n"u8.ToArray()) { 0x21, (byte)(v6 ? 0x21 : 0x11) };
        int length = (v6 ? 36 : 12) + 7;
        header.Add((byte)(length >> 8));
        header.Add((byte)length);
        header.AddRange(source);
        header.AddRange(destination);
        header.AddRange([(byte)(sourcePort >> 8), (byte)sourcePort, (byte)(destinationPort >> 8), (byte)destinationPort]);
        header.AddRange([0x04, 0x00, 0x04, (byte)'t', (byte)'e', (byte)'s', (byte)'t']); // a TLV (PP2_TYPE_NOOP) to skip
        return [.. header];
    }

    private static async Task<SmtpConnection> ConnectWithAsync(EdgeInstance edge, byte[] header)
    {
        var c = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        await c.SendAsync(header);
        Assert.Equal("220 mx.edge.test ESMTP Edge", await c.ReadReplyAsync());
        return c;
    }

    private static async Task<string> ReceivedFromAsync(EdgeInstance edge, SmtpConnection c)
    {
        await c.CommandAsync("EHLO lb-client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        string rcpt = await c.CommandAsync("RCPT TO:<x@elsewhere.example>");
        await c.CommandAsync("RSET");
        await c.EnvelopeAsync();
        await c.CommandAsync("DATA");
        await c.CommandAsync("Subject: proxied\r\n\r\nx\r\n.");
        return rcpt + "\n" + (await edge.SingleMessageContentAsync()).Split("\r\n")[0];
    }

    [Fact]
    public async Task Version_1_gives_the_client_address()
    {
        await using var edge = await EdgeInstance.StartAsync(Haproxy);
        await using var c = await ConnectWithAsync(edge, "PROXY TCP4 198.51.100.9 192.0.2.1 40000 25\r\n"u8.ToArray());
        Assert.Equal("454 4.7.1 <x@elsewhere.example>: Relay access denied\nReceived: from client.example (unknown [198.51.100.9])",
            await ReceivedFromAsync(edge, c));
    }

    [Fact]
    public async Task Version_2_gives_the_client_address()
    {
        await using var edge = await EdgeInstance.StartAsync(Haproxy);
        byte[] header = V2([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x09], new byte[16], 40000, 25);
        await using var c = await ConnectWithAsync(edge, header);
        Assert.Equal("454 4.7.1 <x@elsewhere.example>: Relay access denied\nReceived: from client.example (unknown [2001:db8::9])",
            await ReceivedFromAsync(edge, c));
    }

    /// <summary>As Postfix's smtpd: the address the client connected to is the header's, for policies and milters alike.</summary>
    [Fact]
    public async Task The_server_address_policies_see_is_the_one_the_header_names()
    {
        using var directory = new TempDirectory();
        directory.Write("policy.js", "function policy(r) { return `REJECT server ${r.server_address} port ${r.server_port}`; }");
        await using var edge = await EdgeInstance.StartAsync($"{Haproxy}\nsmtpd_recipient_restrictions = check_policy_script {directory.File("policy.js")}");
        await using var c = await ConnectWithAsync(edge, "PROXY TCP4 198.51.100.9 192.0.2.1 40000 2525\r\n"u8.ToArray());
        await c.CommandAsync("EHLO lb-client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        Assert.Equal("554 5.7.1 <postmaster@localhost>: Recipient address rejected: server 192.0.2.1 port 2525",
            await c.CommandAsync("RCPT TO:<postmaster@localhost>"));
    }

    [Fact]
    public async Task A_header_in_pieces_is_waited_for()
    {
        await using var edge = await EdgeInstance.StartAsync(Haproxy);
        await using var c = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        foreach (byte b in "PROXY TCP4 127.0.0.1 192.0.2.1 40000 25\r\n"u8.ToArray())
        {
            await c.SendAsync([b]);
        }
        Assert.StartsWith("220 ", await c.ReadReplyAsync());
        // 127.0.0.1 is in mynetworks here: relaying is allowed for the proxied client.
        await c.CommandAsync("EHLO lb-client.example");
        await c.CommandAsync("MAIL FROM:<a@example.org>");
        Assert.Equal("250 2.1.5 Ok", await c.CommandAsync("RCPT TO:<x@elsewhere.example>"));
    }

    [Theory]
    [InlineData("EHLO client.example\r\n")]
    [InlineData("PROXY TCP4 999.1.1.1 192.0.2.1 1 25\r\n")]
    [InlineData("PROXY TCP4 198.51.100.9 192.0.2.1 65536 25\r\n")]
    [InlineData("PROXY TCP5 198.51.100.9 192.0.2.1 1 25\r\n")]
    [InlineData("\u0016\u0003\u0001\u0000")]
    public async Task A_malformed_header_closes_without_a_reply(string header)
    {
        await using var edge = await EdgeInstance.StartAsync(Haproxy);
        await using var c = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        await c.SendAsync(Encoding.Latin1.GetBytes(header));
        Assert.Equal("", await c.ReadAvailableAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_missing_header_times_out_without_a_reply()
    {
        await using var edge = await EdgeInstance.StartAsync(Haproxy);
        await using var c = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal("", await c.ReadAvailableAsync(TimeSpan.FromSeconds(6)));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));
    }
}
