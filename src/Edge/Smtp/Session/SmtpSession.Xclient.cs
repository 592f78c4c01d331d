using System.Net;
using Edge.Logging;
using Edge.Mail;
using Edge.Net;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Session;

/// <summary>
/// XCLIENT (Postfix's XCLIENT_README): a trusted proxy or test tool tells the server who the real client is.
/// The session then starts over with a new greeting, and every decision sees the new client.
/// </summary>
internal sealed partial class SmtpSession
{
    private const string Unavailable = "[UNAVAILABLE]";
    private const string TempUnavailable = "[TEMPUNAVAIL]";

    private bool Xclient(ReadOnlySpan<byte> argument, ref Step step)
    {
        if (_envelope.Active)
        {
            return Fail(Replies.TransactionInProgress);
        }
        if (argument.IsEmpty)
        {
            return Fail(Replies.XclientSyntax);
        }
        if (!_xclientAllowed)
        {
            return Fail(Replies.XclientDenied);
        }

        var update = new XclientUpdate(_peer);
        foreach (Range item in argument.Split((byte)' '))
        {
            ReadOnlySpan<byte> attribute = argument[item];
            if (attribute.IsEmpty)
            {
                continue;
            }
            int eq = attribute.IndexOf((byte)'=');
            if (eq <= 0 || eq == attribute.Length - 1)
            {
                return Fail(Replies.XclientExpected);
            }
            string key = System.Text.Encoding.ASCII.GetString(attribute[..eq]).ToUpperInvariant();
            bool? valid = update.Apply(key, XText.Decode(attribute[(eq + 1)..]));
            if (valid is null)
            {
                Reply.Write("501 5.5.4 Bad XCLIENT attribute name: "u8);
                Reply.Line(attribute[..eq]);
                return false;
            }
            if (valid == false)
            {
                Reply.Write("501 5.5.4 Bad "u8);
                Reply.WriteAscii(key);
                Reply.Write(" syntax: "u8);
                Reply.Line(attribute[(eq + 1)..]);
                return false;
            }
        }

        SetPeer(update.Peer);
        ResetTransaction();
        // LOGIN: the proxy authenticated the client itself, as smtpd_sasl_auth_extern() records it.
        (_saslUsername, _saslMethod) = update.Login is { } login ? (login, "XCLIENT") : ("", "");
        _helo = update.Helo;
        _esmtp = update.Esmtp ?? _esmtp;
        // As for a new connection: the client hears the greeting and starts with EHLO again; mail filters are told of
        // the new client as of a new connection, as Postfix's smtpd does.
        if (_milters is not null)
        {
            _filterStage = FilterStage.Connect;
            step = Step.Filters;
            return true;
        }
        Reply.Write(_s.Greeting);
        return true;
    }

    /// <summary>The attributes of one XCLIENT command, applied only when all of them are valid.</summary>
    private sealed class XclientUpdate(Peer current)
    {
        private IPAddress? _ip = current.Ip;
        private string _address = current.Address;
        private string _name = current.Name;
        private int _port = current.Port;

        public Peer Peer => new(_ip, _address, _name, _port);
        public string? Helo { get; private set; }
        public string? Login { get; private set; }
        public bool? Esmtp { get; private set; }

        /// <summary>True when applied, false for a bad value, null for an unknown attribute.</summary>
        public bool? Apply(string key, string value)
        {
            bool missing = value is Unavailable or TempUnavailable;
            switch (key)
            {
                case "NAME":
                    if (!missing && !HostName.IsValid(value))
                    {
                        return false;
                    }
                    _name = missing ? "unknown" : value;
                    return true;
                case "REVERSE_NAME":
                    return missing || HostName.IsValid(value);
                case "ADDR":
                    if (missing)
                    {
                        (_ip, _address) = (null, "unknown");
                        return true;
                    }
                    if (!TryParseAddress(value, out IPAddress? ip))
                    {
                        return false;
                    }
                    (_ip, _address) = (ip, ip.ToString());
                    return true;
                case "PORT":
                    if (missing)
                    {
                        _port = 0;
                        return true;
                    }
                    if (!TryParsePort(value, out int port))
                    {
                        return false;
                    }
                    _port = port;
                    return true;
                case "PROTO":
                    Esmtp = value.ToUpperInvariant() switch { "SMTP" => false, "ESMTP" => true, _ => null };
                    return Esmtp is not null;
                case "HELO":
                    if (value.Length > 255)
                    {
                        return false;
                    }
                    Helo = missing ? null : Printable.Text(System.Text.Encoding.UTF8.GetBytes(value));
                    return true;
                case "LOGIN":
                    Login = missing ? null : Printable.Text(System.Text.Encoding.UTF8.GetBytes(value));
                    return true;
                case "DESTADDR":
                    return missing || TryParseAddress(value, out _);
                case "DESTPORT":
                    return missing || TryParsePort(value, out _);
                default:
                    return null;
            }
        }
    }

    /// <summary>An IPv4 address, or an IPv6 address with Postfix's "IPV6:" prefix.</summary>
    private static bool TryParseAddress(string value, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (value.StartsWith("IPV6:", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.TryParse(value.AsSpan(5), out address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }
        return IPAddress.TryParse(value, out address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
               && value.Count(c => c == '.') == 3;
    }

    private static bool TryParsePort(string value, out int port) =>
        int.TryParse(value, System.Globalization.NumberStyles.None, null, out port) && port <= 65535;
}
