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

    /// <exception cref="GenericMapException">The table's entry for an address in the header holds no address.</exception>
    public byte[]? Rewrite(ReadOnlySpan<byte> name, ReadOnlySpan<byte> header) =>
        HeaderRewriter.IsAddressHeader(name) ? HeaderAddresses.Rewrite(header, name.Length, tokenLimit, MapOrThrow) : null;

    public void WriteMissing(IContentSink output)
    {
    }

    /// <summary>The envelope address as MAIL FROM or RCPT TO gives it to the next hop.</summary>
    public string Envelope(string address) => Map(address) ?? address;

    /// <summary>
    /// Why the envelope cannot be sent: an entry for the sender or a recipient that holds no address, which stops
    /// Postfix's smtp(8) ("map lookup problem"), so the mail waits; null when every address maps.
    /// </summary>
    public string? EnvelopeProblem(string sender, IEnumerable<string> recipients) =>
        sender.Length > 0 && Map(sender) is null ? Problem(sender) : recipients.FirstOrDefault(r => Map(r) is null) is { } bad ? Problem(bad) : null;

    private string MapOrThrow(string address) => Map(address) ?? throw new GenericMapException(Problem(address));

    private string Problem(string address) => $"{maps.Name} map lookup problem for {address}";

    /// <summary>smtp_map11_internal(): one lookup, its first value; null when the entry holds no address.</summary>
    private string? Map(string address)
    {
        if (address.Length == 0 || maps.Map(address) is not { } values)
        {
            return address;
        }
        if (values.Length == 0)
        {
            return null;
        }
        if (values.Length > 1)
        {
            Logging.MailLog.Warning($"multi-valued {maps.Name} result for {address}");
        }
        return values[0];
    }
}

/// <summary>A generic table could not map an address in the content; the delivery is dropped before its end and deferred.</summary>
internal sealed class GenericMapException(string message) : Exception(message);
