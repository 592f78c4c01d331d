namespace Edge.Resolve;

/// <summary>Decides a recipient's address class from its domain, as trivial-rewrite does.</summary>
internal sealed class AddressClassifier(DomainSet mydestination, DomainSet virtualAlias, DomainSet virtualMailbox, DomainSet relay)
{
    public AddressClass Classify(ReadOnlySpan<byte> address)
    {
        int at = address.LastIndexOf((byte)'@');
        if (at < 0)
        {
            // An unqualified name is qualified with $myorigin, which Edge treats as local like "postmaster".
            return AddressClass.Local;
        }
        ReadOnlySpan<byte> domain = address[(at + 1)..];
        if (mydestination.Contains(domain)) return AddressClass.Local;
        if (virtualAlias.Contains(domain)) return AddressClass.VirtualAlias;
        if (virtualMailbox.Contains(domain)) return AddressClass.VirtualMailbox;
        if (relay.Contains(domain)) return AddressClass.Relay;
        return AddressClass.Default;
    }
}
