using System.Text;
using Edge.Metrics;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Session;

/// <summary>Per-command counts for the disconnect line ("ehlo=1 mail=1 rcpt=0/1 … commands=3/5").</summary>
internal sealed class CommandStats
{
    // Postfix's command table order, which the disconnect line follows.
    private static readonly (SmtpVerb Verb, string Name)[] s_order =
    [
        (SmtpVerb.Helo, "helo"), (SmtpVerb.Ehlo, "ehlo"), (SmtpVerb.XClient, "xclient"), (SmtpVerb.StartTls, "starttls"), (SmtpVerb.Auth, "auth"),
        (SmtpVerb.Mail, "mail"), (SmtpVerb.Rcpt, "rcpt"), (SmtpVerb.Data, "data"), (SmtpVerb.Bdat, "bdat"),
        (SmtpVerb.Rset, "rset"), (SmtpVerb.Noop, "noop"), (SmtpVerb.Vrfy, "vrfy"), (SmtpVerb.Etrn, "etrn"),
        (SmtpVerb.Quit, "quit"), (SmtpVerb.Help, "help"), (SmtpVerb.Unknown, "unknown"),
    ];

    private readonly int[] _total = new int[(int)SmtpVerb.Forbidden + 1];
    private readonly int[] _ok = new int[(int)SmtpVerb.Forbidden + 1];

    public void Count(SmtpVerb verb) => _total[(int)(verb == SmtpVerb.Forbidden ? SmtpVerb.Unknown : verb)]++;

    public void Succeeded(SmtpVerb verb) => _ok[(int)verb]++;

    /// <summary>Adds the session's counts to edge.smtpd.commands, once, at the end of the session.</summary>
    public void Publish()
    {
        foreach ((SmtpVerb verb, string name) in s_order)
        {
            int total = _total[(int)verb];
            if (total == 0)
            {
                continue;
            }
            int ok = _ok[(int)verb];
            var command = EdgeMetrics.Tag("command", name);
            if (ok > 0)
            {
                EdgeMetrics.Commands.Add(ok, command, EdgeMetrics.Tag("result", "ok"));
            }
            if (total > ok)
            {
                EdgeMetrics.Commands.Add(total - ok, command, EdgeMetrics.Tag("result", "failed"));
            }
        }
    }

    public string Format()
    {
        var text = new StringBuilder();
        int ok = 0, total = 0;
        foreach ((SmtpVerb verb, string name) in s_order)
        {
            int t = _total[(int)verb];
            if (t == 0)
            {
                continue;
            }
            int o = _ok[(int)verb];
            ok += o;
            total += t;
            text.Append(' ').Append(name).Append('=').Append(o);
            if (o != t)
            {
                text.Append('/').Append(t);
            }
        }
        text.Append(" commands=").Append(ok);
        if (ok != total || total == 0)
        {
            text.Append('/').Append(total);
        }
        return text.ToString();
    }
}
