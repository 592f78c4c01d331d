namespace Edge.Restrictions.Policy;

/// <summary>
/// The functions a policy script may define, one per stage of the SMTP session, each named for the protocol_state
/// of the requests it answers; <c>policy(request)</c> answers the stages the script has no function for. With
/// smtpd_delay_reject = yes every RCPT-time list (client, helo, sender, relay, recipient) asks at RCPT TO, as in
/// Postfix, so rcpt() answers them; with no, connect(), helo() and mail() answer at their commands.
/// </summary>
internal static class ScriptStages
{
    public const string Fallback = "policy";

    /// <summary>Each stage's function and the protocol_state of its requests.</summary>
    public static readonly (string Function, string State)[] All =
    [
        ("connect", "CONNECT"), ("helo", "EHLO"), ("mail", "MAIL"), ("rcpt", "RCPT"), ("data", "DATA"),
        ("endOfData", "END-OF-MESSAGE"), ("vrfy", "VRFY"), ("etrn", "ETRN"),
    ];

    /// <summary>The function for requests in <paramref name="state"/> (HELO as EHLO), or null for a state no stage has.</summary>
    public static string? FunctionFor(string state)
    {
        foreach ((string function, string stageState) in All)
        {
            if (stageState == state || (state == "HELO" && stageState == "EHLO"))
            {
                return function;
            }
        }
        return null;
    }
}
