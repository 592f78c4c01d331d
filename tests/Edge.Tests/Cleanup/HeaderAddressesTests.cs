using System.Text;
using Edge.Cleanup;

namespace Edge.Tests.Cleanup;

/// <summary>Header addresses rewritten in place: what is not an address comes back byte for byte.</summary>
public class HeaderAddressesTests
{
    [Fact]
    public void A_header_that_is_not_utf8_keeps_its_other_bytes()
    {
        byte[] header = Encoding.Latin1.GetBytes("To: \"Jos\u00e9 M\u00fcller\" <jose>, bob (caf\u00e9)\r\n");
        byte[]? rewritten = HeaderAddresses.Rewrite(header, 2, 10240, address => address + "@edge.test");
        Assert.Equal(Encoding.Latin1.GetBytes("To: \"Jos\u00e9 M\u00fcller\" <jose@edge.test>, bob@edge.test (caf\u00e9)\r\n"), rewritten);
    }

    [Fact]
    public void A_utf8_header_stays_utf8()
    {
        byte[] header = Encoding.UTF8.GetBytes("From: Jos\u00e9 <jose>\r\n");
        byte[]? rewritten = HeaderAddresses.Rewrite(header, 4, 10240, address => address + "@edge.test");
        Assert.Equal(Encoding.UTF8.GetBytes("From: Jos\u00e9 <jose@edge.test>\r\n"), rewritten);
    }

    [Fact]
    public void Every_address_of_a_long_list_is_rewritten_once()
    {
        string list = string.Join(", ", Enumerable.Range(0, 1500).Select(i => $"u{i}"));
        byte[]? rewritten = HeaderAddresses.Rewrite(Encoding.ASCII.GetBytes($"Cc: {list}\r\n"), 2, 10240, address => address + "@x");
        string text = Encoding.ASCII.GetString(rewritten!).Replace("\r\n\t", " ", StringComparison.Ordinal);
        Assert.Equal($"Cc: {string.Join(", ", Enumerable.Range(0, 1500).Select(i => $"u{i}@x"))}\r\n", text);
    }
}
