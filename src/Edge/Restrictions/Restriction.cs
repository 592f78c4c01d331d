namespace Edge.Restrictions;

/// <summary>The built-in restrictions Edge evaluates so far (the full language has its own issue).</summary>
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
}
