namespace Edge.Restrictions;

/// <summary>The restrictions Edge evaluates: Postfix's names, each with its own meaning (postconf(5)).</summary>
internal enum Restriction : byte
{
    Permit,
    Reject,
    Defer,
    PermitMynetworks,
    PermitSaslAuthenticated,
    PermitAuthDestination,
    RejectUnauthDestination,
    DeferUnauthDestination,
    CheckClientAccess,
    CheckHeloAccess,
    CheckSenderAccess,
    CheckRecipientAccess,
    RejectInvalidHeloHostname,
    RejectNonFqdnHeloHostname,
    RejectNonFqdnSender,
    RejectNonFqdnRecipient,
    RejectUnknownSenderDomain,
    RejectUnknownRecipientDomain,
    RejectRblClient,
    PermitDnswlClient,
    RejectRhsblClient,
    RejectRhsblHelo,
    RejectRhsblSender,
    RejectRhsblRecipient,
    RejectUnlistedSender,
    RejectUnlistedRecipient,
    CheckPolicyScript,
    CheckPolicyService,
}
