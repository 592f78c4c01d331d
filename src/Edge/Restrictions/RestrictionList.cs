using Edge.Tables;

namespace Edge.Restrictions;

/// <summary>One restriction of a list, with the table of a check_*_access.</summary>
internal readonly record struct RestrictionStep(Restriction Kind, ILookupTable? Table = null, string? TableName = null);

/// <summary>A parsed restriction list such as smtpd_sender_restrictions, or the restrictions an access table returned.</summary>
internal sealed class RestrictionList(RestrictionStep[] steps)
{
    public static RestrictionList Empty { get; } = new([]);

    public ReadOnlySpan<RestrictionStep> Steps => steps;

    public bool IsEmpty => steps.Length == 0;

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
        ["check_client_access"] = Restriction.CheckClientAccess,
        ["check_helo_access"] = Restriction.CheckHeloAccess,
        ["check_sender_access"] = Restriction.CheckSenderAccess,
        ["check_recipient_access"] = Restriction.CheckRecipientAccess,
        ["reject_invalid_helo_hostname"] = Restriction.RejectInvalidHeloHostname,
        ["reject_invalid_hostname"] = Restriction.RejectInvalidHeloHostname,
        ["reject_non_fqdn_helo_hostname"] = Restriction.RejectNonFqdnHeloHostname,
        ["reject_non_fqdn_hostname"] = Restriction.RejectNonFqdnHeloHostname,
        ["reject_non_fqdn_sender"] = Restriction.RejectNonFqdnSender,
        ["reject_non_fqdn_recipient"] = Restriction.RejectNonFqdnRecipient,
    };

    /// <summary>
    /// Parses a list; a check_*_access takes the table reference that follows it. Returns null with
    /// <paramref name="error"/> naming the first restriction Edge does not know or the table it cannot open.
    /// </summary>
    public static RestrictionList? Parse(IReadOnlyList<string> names, out string? error)
    {
        error = null;
        var steps = new List<RestrictionStep>();
        for (int i = 0; i < names.Count; i++)
        {
            if (!s_names.TryGetValue(names[i], out Restriction kind))
            {
                error = $"restriction \"{names[i]}\" is not supported yet";
                return null;
            }
            if (kind is not (Restriction.CheckClientAccess or Restriction.CheckHeloAccess
                or Restriction.CheckSenderAccess or Restriction.CheckRecipientAccess))
            {
                steps.Add(new RestrictionStep(kind));
                continue;
            }
            if (i + 1 == names.Count)
            {
                error = $"\"{names[i]}\" needs a type:name table after it";
                return null;
            }
            string reference = names[++i];
            ILookupTable? table = TableFactory.Open(reference, out string? tableError);
            if (table is null)
            {
                error = $"{names[i - 1]} {reference}: {tableError}";
                return null;
            }
            steps.Add(new RestrictionStep(kind, table, reference));
        }
        return new RestrictionList(steps.ToArray());
    }
}
