namespace Edge.Restrictions;

/// <summary>A parsed restriction list such as smtpd_relay_restrictions.</summary>
internal sealed class RestrictionList(Restriction[] steps)
{
    public static RestrictionList Empty { get; } = new([]);

    public ReadOnlySpan<Restriction> Steps => steps;

    private static readonly Dictionary<string, Restriction> s_names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["permit"] = Restriction.Permit,
        ["reject"] = Restriction.Reject,
        ["defer"] = Restriction.Defer,
        ["permit_mynetworks"] = Restriction.PermitMynetworks,
        ["permit_sasl_authenticated"] = Restriction.PermitSaslAuthenticated,
        ["permit_auth_destination"] = Restriction.PermitAuthDestination,
        ["reject_unauth_destination"] = Restriction.RejectUnauthDestination,
        ["defer_unauth_destination"] = Restriction.DeferUnauthDestination,
    };

    /// <summary>Parses a list; returns the first name Edge does not implement in <paramref name="unknown"/>.</summary>
    public static RestrictionList Parse(IEnumerable<string> names, out string? unknown)
    {
        unknown = null;
        var steps = new List<Restriction>();
        foreach (string name in names)
        {
            if (!s_names.TryGetValue(name, out Restriction r))
            {
                unknown = name;
                return Empty;
            }
            steps.Add(r);
        }
        return new RestrictionList(steps.ToArray());
    }
}
