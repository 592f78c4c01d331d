namespace Edge.Resolve;

/// <summary>Postfix's address classes (ADDRESS_CLASS_README), decided by the recipient's domain.</summary>
internal enum AddressClass : byte
{
    /// <summary>mydestination (and unqualified names): delivered by local_transport.</summary>
    Local,
    /// <summary>virtual_alias_domains: every address must be aliased elsewhere.</summary>
    VirtualAlias,
    /// <summary>virtual_mailbox_domains: delivered by virtual_transport.</summary>
    VirtualMailbox,
    /// <summary>relay_domains: we are the MX and forward by relay_transport.</summary>
    Relay,
    /// <summary>Anything else: only authorized clients may send there (default_transport).</summary>
    Default,
}
