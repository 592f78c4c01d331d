using Edge.Cleanup;
using Edge.Mail;
using Edge.Resolve;

namespace Edge.Delivery.Smtp;

/// <summary>
/// smtp_generic_maps (lmtp_generic_maps) on the message's own sender and recipient headers as smtp(8) sends them:
/// each address the table lists is replaced by its one value, and a header that changed is written back as Postfix
/// writes it. Nothing is added.
/// </summary>
internal sealed class GenericHeaderRewriter(AddressMap maps, int tokenLimit) : IHeaderRewriter
{
    /// <summary>Why the table cannot be read (it did not open), or null.</summary>
    public string? Failure => maps.Failure;

    public void Observe(ReadOnlySpan<byte> name)
    {
    }

    public byte[]? Rewrite(ReadOnlySpan<byte> name, ReadOnlySpan<byte> header) =>
        HeaderRewriter.IsAddressHeader(name) ? HeaderAddresses.Rewrite(header, name.Length, tokenLimit, Map) : null;

    public void WriteMissing(IContentSink output)
    {
    }

    /// <summary>smtp_map11_internal(): one lookup, its first value.</summary>
    private string Map(string address)
    {
        if (address.Length == 0 || maps.Map(address) is not [var first, ..] values)
        {
            return address;
        }
        if (values.Length > 1)
        {
            Logging.MailLog.Warning($"multi-valued {maps.Name} result for {address}");
        }
        return first;
    }

    /// <summary>The envelope address as MAIL FROM or RCPT TO gives it to the next hop.</summary>
    public string Envelope(string address) => Map(address);
}
