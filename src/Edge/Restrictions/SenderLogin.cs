using Edge.Tables;

namespace Edge.Restrictions;

/// <summary>
/// The reject_*_sender_login_mismatch restrictions (smtpd_sender_login_maps): an authenticated client may send only
/// as an address the table gives to its login, and an address that has an owner needs its owner logged in.
/// </summary>
internal static class SenderLogin
{
    public static Decision Check(RestrictionSettings s, Restriction kind, scoped in CheckContext c)
    {
        if (s.SenderLoginMaps is not { } maps)
        {
            Logging.MailLog.Warning($"restriction `{RestrictionList.NameOf(kind)}' ignored: no SASL support");
            return Decision.Dunno;
        }
        string sender = c.SenderText;
        string login = c.Session?.SaslUsername ?? "";
        string[]? owners = Owners(s, maps, sender, c);
        bool authenticated = login.Length > 0;
        bool checkOwner = authenticated && kind is Restriction.RejectAuthenticatedSenderLoginMismatch or Restriction.RejectSenderLoginMismatch
            or Restriction.RejectKnownSenderLoginMismatch;
        if (checkOwner && !(owners is null && kind == Restriction.RejectKnownSenderLoginMismatch)
            && owners?.Contains(login, StringComparer.OrdinalIgnoreCase) != true)
        {
            return Decision.Reject(553, "5.7.1", $"<{sender}>: Sender address rejected: not owned by user {login}");
        }
        bool checkLoggedIn = !authenticated && kind is Restriction.RejectUnauthenticatedSenderLoginMismatch or Restriction.RejectSenderLoginMismatch
            or Restriction.RejectKnownSenderLoginMismatch;
        return checkLoggedIn && owners is not null
            ? Decision.Reject(553, "5.7.1", $"<{sender}>: Sender address rejected: not logged in")
            : Decision.Dunno;
    }

    /// <summary>The logins the table gives the sender (split on commas and spaces), by mail_addr_find's keys; null when none lists it.</summary>
    private static string[]? Owners(RestrictionSettings s, TableList maps, string sender, scoped in CheckContext c)
    {
        foreach (AddressKey key in AddressKeys.For(sender, c.Classifier.IsLocalForLookup(sender), s.RecipientDelimiter.ToCharArray()))
        {
            if (maps.Find([key.Key]) is { } owners)
            {
                return owners.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            }
        }
        return null;
    }
}
