using System.Text;
using System.Text.RegularExpressions;
using Edge.Config;

namespace Edge.Delivery.Pipe;

/// <summary>
/// A pipe(8) service's master.cf attributes — flags=, user=, size=, null_sender=, eol= and argv= — and the
/// expansion of the command's ${name} macros for one delivery.
/// </summary>
internal sealed partial class PipeCommand
{
    private const string KnownFlags = "FRDOhqu.>BX";

    private static readonly HashSet<string> Macros =
    [
        "client_address", "client_helo", "client_hostname", "client_port", "client_protocol", "domain", "extension",
        "mailbox", "nexthop", "original_recipient", "queue_id", "recipient", "sender", "size", "user",
    ];

    /// <summary>Macros with one value per recipient: an argument that holds one becomes one argument per recipient.</summary>
    private static readonly HashSet<string> RecipientMacros = ["domain", "extension", "mailbox", "original_recipient", "recipient", "user"];

    private PipeCommand(IReadOnlyList<string> argv, string flags, string user, long sizeLimit, string nullSender)
    {
        Argv = argv;
        Flags = flags;
        User = user;
        SizeLimit = sizeLimit;
        NullSender = nullSender;
    }

    public IReadOnlyList<string> Argv { get; }

    public string Flags { get; }

    public string User { get; }

    /// <summary>size=: larger messages bounce; 0 is no limit.</summary>
    public long SizeLimit { get; }

    /// <summary>null_sender=: what ${sender} and the From line say for the null sender.</summary>
    public string NullSender { get; }

    /// <summary>The command as Postfix quotes it in reasons: the argv= text.</summary>
    public string Text => string.Join(' ', Argv);

    public bool Has(char flag) => Flags.Contains(flag);

    /// <summary>Reads the attributes of <paramref name="service"/>; a bad one names master.cf's file and line.</summary>
    public static PipeCommand Parse(MasterService service)
    {
        string flags = "", user = "", nullSender = "MAILER-DAEMON";
        long size = 0;
        for (int i = 0; i < service.Args.Count; i++)
        {
            string arg = service.Args[i];
            int equals = arg.IndexOf('=');
            string name = equals < 0 ? arg : arg[..equals];
            string value = equals < 0 ? "" : arg[(equals + 1)..];
            switch (name)
            {
                case "argv" when value.Length > 0:
                    return Validate(service, [value, .. service.Args.Skip(i + 1)], flags, user, size, nullSender);
                case "flags":
                    flags = value;
                    break;
                case "user":
                    user = value;
                    break;
                case "null_sender":
                    nullSender = value;
                    break;
                case "size" when long.TryParse(value, out size) && size >= 0:
                    break;
                case "eol" when value == "\\n":
                    break;
                case "eol":
                    throw Error(service, $"eol={value}: Edge's pipe writes LF line ends only (eol=\\n)");
                default:
                    throw Error(service, $"bad pipe attribute \"{arg}\" (expected flags=, user=, size=, null_sender=, eol= or argv=)");
            }
        }
        throw Error(service, "missing argv= attribute");
    }

    private static PipeCommand Validate(MasterService service, List<string> argv, string flags, string user, long size, string nullSender)
    {
        if (flags.FirstOrDefault(flag => !KnownFlags.Contains(flag)) is var bad and not '\0')
        {
            throw Error(service, $"unknown flag '{bad}' in flags={flags} (known: {KnownFlags})");
        }
        if (user.Length == 0)
        {
            throw Error(service, "missing user= attribute: pipe never runs a command as the mail system");
        }
        foreach (string arg in argv)
        {
            foreach (Match match in MacroPattern().Matches(arg))
            {
                if (!Macros.Contains(Name(match)))
                {
                    throw Error(service, $"unknown macro {match.Value} in argv");
                }
            }
        }
        return new PipeCommand(argv, flags, user, size, nullSender);
    }

    /// <summary>The arguments for one delivery to <paramref name="recipients"/>.</summary>
    public List<string> Expand(DeliveryJob job, IReadOnlyList<int> recipients, string recipientDelimiter)
    {
        var expanded = new List<string>(Argv.Count + recipients.Count);
        foreach (string arg in Argv)
        {
            bool perRecipient = MacroPattern().Matches(arg).Any(match => RecipientMacros.Contains(Name(match)));
            if (!perRecipient)
            {
                expanded.Add(Substitute(arg, job, -1, recipientDelimiter));
                continue;
            }
            foreach (int recipient in recipients)
            {
                expanded.Add(Substitute(arg, job, recipient, recipientDelimiter));
            }
        }
        return expanded;
    }

    private string Substitute(string arg, DeliveryJob job, int recipient, string recipientDelimiter) =>
        MacroPattern().Replace(arg, match => Value(Name(match), job, recipient, recipientDelimiter));

    private string Value(string name, DeliveryJob job, int recipient, string recipientDelimiter)
    {
        var message = job.Message;
        return name switch
        {
            "sender" => Quote(message.Sender.Length > 0 ? message.Sender : NullSender),
            "nexthop" => Has('h') ? job.Nexthop.ToLowerInvariant() : job.Nexthop,
            "queue_id" => message.Id.ToString(),
            "size" => message.Size.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "client_address" => message.ClientAddress,
            "client_hostname" => message.ClientName,
            "client_helo" => message.Helo,
            "client_protocol" => message.Protocol,
            "client_port" => "",
            _ => RecipientValue(name, message.Recipients[recipient], recipientDelimiter),
        };
    }

    private string RecipientValue(string name, Queue.QueuedRecipient recipient, string recipientDelimiter)
    {
        // Edge rewrites no address, so the original recipient is the recipient as received.
        string address = recipient.Address;
        int at = address.LastIndexOf('@');
        string local = at < 0 ? address : address[..at];
        string domain = at < 0 ? "" : address[(at + 1)..];
        if (Has('u'))
        {
            local = local.ToLowerInvariant();
        }
        if (Has('h'))
        {
            domain = domain.ToLowerInvariant();
        }
        int delimiter = recipientDelimiter.Length == 0 ? -1 : local.IndexOfAny(recipientDelimiter.ToCharArray());
        return name switch
        {
            "domain" => domain,
            "mailbox" => local,
            "user" => delimiter < 0 ? local : local[..delimiter],
            "extension" => delimiter < 0 ? "" : local[(delimiter + 1)..],
            _ => Quote(at < 0 ? local : $"{local}@{domain}"),
        };
    }

    /// <summary>The q flag: a local part with white space or specials is quoted as RFC 5322 requires.</summary>
    private string Quote(string address)
    {
        int at = address.LastIndexOf('@');
        string local = at < 0 ? address : address[..at];
        if (!Has('q') || !local.Any(c => c <= ' ' || "()<>@,;:\\\".[]".Contains(c)) || local.StartsWith('"'))
        {
            return address;
        }
        var quoted = new StringBuilder("\"");
        foreach (char c in local)
        {
            quoted.Append(c is '"' or '\\' ? "\\" + c : c.ToString());
        }
        return quoted.Append('"').Append(at < 0 ? "" : address[at..]).ToString();
    }

    private static string Name(Match match) => match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value;

    private static ConfigException Error(MasterService service, string reason) =>
        new(service.File, service.Line, null, $"service {service.Name}: {reason}");

    [GeneratedRegex(@"\$\{(\w+)\}|\$\((\w+)\)")]
    private static partial Regex MacroPattern();
}
