using System.Net;
using Edge.Dns;
using Edge.Net;

namespace Edge.Restrictions;

/// <summary>The restriction lists of a listener and the reply codes and lookup rules they use (postconf(5)).</summary>
internal sealed record RestrictionSettings
{
    public RestrictionList Client { get; init; } = RestrictionList.Empty;
    public RestrictionList Helo { get; init; } = RestrictionList.Empty;
    public RestrictionList Sender { get; init; } = RestrictionList.Empty;
    public required RestrictionList Relay { get; init; }
    public RestrictionList Recipient { get; init; } = RestrictionList.Empty;
    public RestrictionList Data { get; init; } = RestrictionList.Empty;
    public RestrictionList EndOfData { get; init; } = RestrictionList.Empty;
    public RestrictionList Etrn { get; init; } = RestrictionList.Empty;

    /// <summary>smtpd_restriction_classes: each class's list, by the name lists and access tables use for it.</summary>
    public IReadOnlyDictionary<string, RestrictionList> Classes { get; init; } = new Dictionary<string, RestrictionList>();

    /// <summary>smtpd_delay_reject: the client, helo and sender lists wait for RCPT TO (yes), or run at their own commands.</summary>
    public bool DelayReject { get; init; } = true;

    /// <summary>Whether smtpd_end_of_data_restrictions run a policy script, which is shown the message (<see cref="Policy.MessageView"/>).</summary>
    public bool EndOfDataShowsMessage { get; init; }

    /// <summary>edge_policy_body_limit: how much of the body a script's endOfData(message) sees.</summary>
    public int PolicyBodyLimit { get; init; } = 51200;

    /// <summary>reject_code and defer_code: the plain reject and defer restrictions.</summary>
    public int RejectCode { get; init; } = 554;
    public int DeferCode { get; init; } = 450;

    /// <summary>access_map_reject_code and access_map_defer_code: REJECT and DEFER from an access table.</summary>
    public int AccessRejectCode { get; init; } = 554;
    public int AccessDeferCode { get; init; } = 450;

    /// <summary>invalid_hostname_reject_code and non_fqdn_reject_code: the reject_invalid_* and reject_non_fqdn_* restrictions.</summary>
    public int InvalidHostnameRejectCode { get; init; } = 501;
    public int NonFqdnRejectCode { get; init; } = 504;

    /// <summary>unknown_client_reject_code: reject_unknown_client_hostname and reject_unknown_reverse_client_hostname.</summary>
    public int UnknownClientRejectCode { get; init; } = 450;

    /// <summary>unknown_hostname_reject_code: reject_unknown_helo_hostname for a name DNS does not know.</summary>
    public int UnknownHostnameRejectCode { get; init; } = 450;

    /// <summary>unknown_helo_hostname_tempfail_action: "defer" replies 450 at once when DNS does not answer; defer_if_permit only if nothing rejects.</summary>
    public bool UnknownHeloTempfailDefers { get; init; }

    /// <summary>
    /// smtpd_sender_login_maps: who owns which sender address, for the reject_*_sender_login_mismatch restrictions; null
    /// when SMTP AUTH is off (Postfix then ignores those restrictions with a warning).
    /// </summary>
    public Tables.TableList? SenderLoginMaps { get; init; }

    /// <summary>relay_clientcerts: the certificate or public key fingerprints permit_tls_clientcerts lets relay.</summary>
    public Tables.TableList RelayClientCerts { get; init; } = Tables.TableList.Empty;

    /// <summary>reject_unverified_recipient and reject_unverified_sender: the server's address verifier and the replies they make.</summary>
    public Verify.UnverifiedAddress? UnverifiedRecipient { get; init; }
    public Verify.UnverifiedAddress? UnverifiedSender { get; init; }

    /// <summary>multi_recipient_bounce_reject_code: reject_multi_recipient_bounce.</summary>
    public int MultiRecipientBounceCode { get; init; } = 550;

    /// <summary>unknown_address_reject_code: reject_unknown_sender_domain and reject_unknown_recipient_domain.</summary>
    public int UnknownAddressRejectCode { get; init; } = 450;

    /// <summary>maps_rbl_reject_code and default_rbl_reply: what a client or domain found in a DNS list is told.</summary>
    public int RblRejectCode { get; init; } = 554;
    public string RblReply { get; init; } = "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}";

    /// <summary>relay_domains_reject_code: reject_unauth_destination (defer_unauth_destination uses it minus 100).</summary>
    public int RelayRejectCode { get; init; } = 554;

    /// <summary>
    /// allow_untrusted_routing: whether permit_auth_destination and an OK from check_recipient_access may let
    /// through a recipient whose local part routes it on (user%host@domain, host!user@domain, "user@host"@domain).
    /// </summary>
    public bool AllowUntrustedRouting { get; init; }

    /// <summary>permit_mx_backup: how this host shows in MX lists, by name (myhostname) and address (inet_interfaces, proxy_interfaces).</summary>
    public string MyHostname { get; init; } = "";
    public IReadOnlySet<IPAddress> MyAddresses { get; init; } = new HashSet<IPAddress>();

    /// <summary>permit_mx_backup_networks: where every primary MX must be for permit_mx_backup to permit (empty: anywhere).</summary>
    public NetworkList MxBackupNetworks { get; init; } = NetworkList.Empty;

    /// <summary>The recipient tables of reject_unlisted_recipient and reject_unlisted_sender.</summary>
    public required RecipientMaps RecipientMaps { get; init; }

    /// <summary>smtpd_reject_unlisted_recipient and smtpd_reject_unlisted_sender: the checks run after their lists even when no list names them.</summary>
    public bool RejectUnlistedRecipient { get; init; } = true;
    public bool RejectUnlistedSender { get; init; }

    /// <summary>The resolver of the DNS restrictions (edge_dns_servers, or /etc/resolv.conf's).</summary>
    public required DnsResolver Dns { get; init; }

    /// <summary>smtpd_null_access_lookup_key: what access tables are asked for the null sender.</summary>
    public string NullAccessKey { get; init; } = "<>";

    /// <summary>recipient_delimiter: the characters that start an address extension, for access table lookups.</summary>
    public string RecipientDelimiter { get; init; } = "";

    /// <summary>
    /// Whether "example.com" in an access table also matches its subdomains (smtpd_access_maps listed in
    /// parent_domain_matches_subdomains, as by default); otherwise subdomains need ".example.com".
    /// </summary>
    public bool ParentDomainMatchesSubdomains { get; init; } = true;
}
