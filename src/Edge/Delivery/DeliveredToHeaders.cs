using System.Text;
using Edge.Streams;

namespace Edge.Delivery;

/// <summary>
/// The addresses in a message's Delivered-To: header lines, which local(8) reads before it forwards: a
/// message that already passed through the recipient is in a forwarding loop.
/// </summary>
internal static class DeliveredToHeaders
{
    /// <summary>How much of the header is read: a loop shows in the first lines, as forwarding prepends them.</summary>
    private const int Limit = 64 * 1024;

    public static async Task<HashSet<string>> ReadAsync(Func<Stream, CancellationToken, Task> copyContent, CancellationToken cancellationToken)
    {
        var header = new HeaderCapture();
        await copyContent(header, cancellationToken);
        var addresses = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string line in Encoding.UTF8.GetString(header.Bytes).Split("\r\n"))
        {
            if (line.StartsWith("Delivered-To:", StringComparison.OrdinalIgnoreCase))
            {
                addresses.Add(line["Delivered-To:".Length..].Trim());
            }
        }
        return addresses;
    }

    /// <summary>Keeps the bytes up to the empty line that ends the header (or the limit), and drops the rest.</summary>
    private sealed class HeaderCapture : WriteOnlyStream
    {
        private readonly MemoryStream _bytes = new();
        private bool _done;

        public byte[] Bytes => _bytes.ToArray();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_done)
            {
                _bytes.Write(buffer.Span[..Math.Min(buffer.Length, Limit - (int)_bytes.Length)]);
                int end = _bytes.GetBuffer().AsSpan(0, (int)_bytes.Length).IndexOf("\r\n\r\n"u8);
                if (end >= 0)
                {
                    _bytes.SetLength(end + 2);
                }
                _done = end >= 0 || _bytes.Length >= Limit;
            }
            return ValueTask.CompletedTask;
        }
    }
}
