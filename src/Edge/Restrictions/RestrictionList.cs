using Edge.Restrictions.Policy;
using Edge.Tables;

namespace Edge.Restrictions;

/// <summary>
/// One restriction of a list, with the table of a check_*_access, the DNS list of an RBL check or the script of a
/// check_policy_script or check_policy_service (whose name is then its <see cref="TableName"/>, for warnings).
/// </summary>
internal readonly record struct RestrictionStep(Restriction Kind, ILookupTable? Table = null, string? TableName = null,
    DnsList? List = null, IPolicy? Policy = null)
{
    /// <summary>What the step is called where a decision is counted: made once, when the list is read.</summary>
    public RestrictionLabel Label { get; } = new(Kind switch
    {
        // Written as a bare type:table or a class name, these have no restriction name of their own.
        Restriction.CheckListAccess => "access_table",
        Restriction.RestrictionClass => "restriction_class",
        _ => RestrictionList.NameOf(Kind),
    }, TableName ?? List?.Domain ?? "");
}

/// <summary>
/// A restriction as metrics name the one that decided: its main.cf name, and its table, class, DNS list, script or
/// policy service ("" for none).
/// </summary>
internal sealed record RestrictionLabel(string Restriction, string Table)
{
    /// <summary>Rejects that no restriction list made (a syntax error, a size limit, a bare newline).</summary>
    public static RestrictionLabel None { get; } = new("none", "");

    /// <summary>The implicit smtpd_reject_unlisted_sender and smtpd_reject_unlisted_recipient.</summary>
    public static RestrictionLabel UnlistedSender { get; } = new("reject_unlisted_sender", "");

    public static RestrictionLabel UnlistedRecipient { get; } = new("reject_unlisted_recipient", "");
}

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
        ["reject_unknown_sender_domain"] = Restriction.RejectUnknownSenderDomain,
        ["reject_unknown_recipient_domain"] = Restriction.RejectUnknownRecipientDomain,
        ["reject_rbl_client"] = Restriction.RejectRblClient,
        ["permit_dnswl_client"] = Restriction.PermitDnswlClient,
        ["reject_rhsbl_client"] = Restriction.RejectRhsblClient,
        ["reject_rhsbl_helo"] = Restriction.RejectRhsblHelo,
        ["reject_rhsbl_sender"] = Restriction.RejectRhsblSender,
        ["reject_rhsbl_recipient"] = Restriction.RejectRhsblRecipient,
        ["reject_unlisted_sender"] = Restriction.RejectUnlistedSender,
        ["reject_unlisted_recipient"] = Restriction.RejectUnlistedRecipient,
        ["check_recipient_maps"] = Restriction.RejectUnlistedRecipient,
        ["check_policy_script"] = Restriction.CheckPolicyScript,
        ["check_policy_service"] = Restriction.CheckPolicyService,
        ["reject_unknown_client_hostname"] = Restriction.RejectUnknownClientHostname,
        ["reject_unknown_client"] = Restriction.RejectUnknownClientHostname,
        ["reject_unknown_reverse_client_hostname"] = Restriction.RejectUnknownReverseClientHostname,
        ["permit_mx_backup"] = Restriction.PermitMxBackup,
        ["defer_if_permit"] = Restriction.DeferIfPermit,
        ["defer_if_reject"] = Restriction.DeferIfReject,
        ["check_client_ns_access"] = Restriction.CheckClientNsAccess,
        ["check_client_mx_access"] = Restriction.CheckClientMxAccess,
        ["check_client_a_access"] = Restriction.CheckClientAAccess,
        ["check_helo_ns_access"] = Restriction.CheckHeloNsAccess,
        ["check_helo_mx_access"] = Restriction.CheckHeloMxAccess,
        ["check_helo_a_access"] = Restriction.CheckHeloAAccess,
        ["check_sender_ns_access"] = Restriction.CheckSenderNsAccess,
        ["check_sender_mx_access"] = Restriction.CheckSenderMxAccess,
        ["check_sender_a_access"] = Restriction.CheckSenderAAccess,
        ["check_recipient_ns_access"] = Restriction.CheckRecipientNsAccess,
        ["check_recipient_mx_access"] = Restriction.CheckRecipientMxAccess,
        ["check_recipient_a_access"] = Restriction.CheckRecipientAAccess,
        ["check_etrn_access"] = Restriction.CheckEtrnAccess,
        ["reject_unknown_helo_hostname"] = Restriction.RejectUnknownHeloHostname,
        ["reject_unknown_hostname"] = Restriction.RejectUnknownHeloHostname,
        ["reject_unauth_pipelining"] = Restriction.RejectUnauthPipelining,
        ["reject_multi_recipient_bounce"] = Restriction.RejectMultiRecipientBounce,
        ["reject_unverified_recipient"] = Restriction.RejectUnverifiedRecipient,
        ["reject_unverified_sender"] = Restriction.RejectUnverifiedSender,
        ["reject_authenticated_sender_login_mismatch"] = Restriction.RejectAuthenticatedSenderLoginMismatch,
        ["reject_unauthenticated_sender_login_mismatch"] = Restriction.RejectUnauthenticatedSenderLoginMismatch,
        ["reject_known_sender_login_mismatch"] = Restriction.RejectKnownSenderLoginMismatch,
        ["reject_sender_login_mismatch"] = Restriction.RejectSenderLoginMismatch,
        ["permit_tls_clientcerts"] = Restriction.PermitTlsClientcerts,
        ["permit_tls_all_clientcerts"] = Restriction.PermitTlsAllClientcerts,
    };

    /// <summary>The name a restriction is written with in main.cf, for warnings and metrics.</summary>
    public static string NameOf(Restriction kind) => s_names.First(pair => pair.Value == kind).Key;

    private static bool TakesTable(Restriction kind) => kind is Restriction.CheckClientAccess or Restriction.CheckHeloAccess
        or Restriction.CheckSenderAccess or Restriction.CheckRecipientAccess or Restriction.CheckEtrnAccess
        or >= Restriction.CheckClientNsAccess and <= Restriction.CheckRecipientAAccess;

    private static bool TakesDnsList(Restriction kind) => kind is Restriction.RejectRblClient or Restriction.PermitDnswlClient
        or Restriction.RejectRhsblClient or Restriction.RejectRhsblHelo or Restriction.RejectRhsblSender or Restriction.RejectRhsblRecipient;

    /// <summary>
    /// Parses a list; a check_*_access takes the table reference that follows it, an RBL check its DNS list
    /// domain, a check_policy_script its file and a check_policy_service its server. Tables and policies are only
    /// where <paramref name="policies"/> is given, main.cf's lists: in an access table's or a policy's result they are
    /// an error, as in Postfix, so that an answer cannot make Edge open a file. A bare type:table is the access
    /// check of the list it is in, and a name <paramref name="isClass"/> knows is a smtpd_restriction_classes class,
    /// as in Postfix, where built-in names come first. Returns null with <paramref name="error"/> naming the first
    /// restriction Edge does not know or the table or script it cannot open.
    /// </summary>
    public static RestrictionList? Parse(IReadOnlyList<string> names, out string? error, PolicyLoader? policies = null,
        Func<string, bool>? isClass = null)
    {
        error = null;
        var steps = new List<RestrictionStep>();
        for (int i = 0; i < names.Count; i++)
        {
            if (names[i].Contains(':'))
            {
                if (Table(names[i], policies, out string? bareError) is not { } bare)
                {
                    error = $"{names[i]}: {bareError}";
                    return null;
                }
                steps.Add(new RestrictionStep(Restriction.CheckListAccess, bare, names[i]));
                continue;
            }
            if (!s_names.TryGetValue(names[i], out Restriction kind))
            {
                if (isClass?.Invoke(names[i]) == true)
                {
                    steps.Add(new RestrictionStep(Restriction.RestrictionClass, TableName: names[i]));
                    continue;
                }
                error = $"restriction \"{names[i]}\" is not supported yet";
                return null;
            }
            bool takesPolicy = kind is Restriction.CheckPolicyScript or Restriction.CheckPolicyService;
            if (!TakesTable(kind) && !TakesDnsList(kind) && !takesPolicy)
            {
                steps.Add(new RestrictionStep(kind));
                continue;
            }
            if (i + 1 == names.Count)
            {
                error = $"\"{names[i]}\" needs {(TakesTable(kind) ? "a type:name table" : kind == Restriction.CheckPolicyScript ? "a script file"
                    : kind == Restriction.CheckPolicyService ? "a policy server" : "a DNS list domain")} after it";
                return null;
            }
            string argument = names[++i];
            if (takesPolicy)
            {
                if (policies is null)
                {
                    error = $"{names[i - 1]} {argument}: policies are named in main.cf restriction lists, not in table results";
                    return null;
                }
                if (policies.Load(kind, argument, out error) is not { } policy)
                {
                    return null;
                }
                steps.Add(new RestrictionStep(kind, TableName: argument, Policy: policy));
                continue;
            }
            if (TakesDnsList(kind))
            {
                if (DnsList.Parse(argument) is not { } list)
                {
                    error = $"{names[i - 1]} {argument}: expected a domain, or domain=d.d.d.d with each d a number or [n;n..m]";
                    return null;
                }
                steps.Add(new RestrictionStep(kind, List: list));
                continue;
            }
            ILookupTable? table = Table(argument, policies, out string? tableError);
            if (table is null)
            {
                error = $"{names[i - 1]} {argument}: {tableError}";
                return null;
            }
            steps.Add(new RestrictionStep(kind, table, argument));
        }
        return new RestrictionList(steps.ToArray());
    }

    /// <param name="policies">Null in an access table's result, where Postfix takes no tables.</param>
    private static ILookupTable? Table(string reference, PolicyLoader? policies, out string? error)
    {
        if (policies is null)
        {
            error = "do not specify lookup tables inside SMTPD access maps; define a restriction class and specify its name instead";
            return null;
        }
        return TableFactory.Open(reference, policies.Tables, out error);
    }
}
