using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Edge.Config;
using Edge.Mail;
using Edge.Milter;
using Edge.Resolve;
using Edge.Restrictions;
using Edge.Restrictions.Policy;

namespace Edge.Fuzz;

/// <summary>
/// What the servers Edge asks say back: the input is everything a mail filter or a policy server sends, after which
/// it hangs up. The client on Edge's side must take any of it as a protocol error or an answer, never an exception.
/// </summary>
internal static class FilterTargets
{
    /// <summary>A connection to a server whose replies are the input; what Edge writes to it goes nowhere.</summary>
    private sealed class ReplayStream(byte[] replies) : Stream
    {
        private readonly MemoryStream _replies = new(replies, writable: false);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _replies.Read(buffer, offset, count);
        public override void Write(byte[] buffer, int offset, int count) { }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private static readonly MilterSettings Milters = MilterSettings.From(
        MainConfig.Load(null).WithOverrides([new("smtpd_milters", "inet:127.0.0.1:9"), new("milter_default_action", "tempfail")], "main.cf", 1),
        "smtpd_milters")!;

    private static readonly Dictionary<string, string> Macros = new(StringComparer.Ordinal)
    {
        ["j"] = "mx.fuzz.example", ["{client_addr}"] = "192.0.2.1", ["i"] = "4Qx1", ["{mail_addr}"] = "a@example.org",
    };

    /// <summary>
    /// A whole milter conversation (negotiation, connect, HELO, MAIL, RCPT, DATA, the message and its end) with the
    /// input as the filter's replies: macro lists, decisions, reply codes and the modification requests of the end of
    /// the message, which are read into the edits cleanup applies.
    /// </summary>
    public static void Milter(byte[] input) => MilterAsync(input).GetAwaiter().GetResult();

    private static async Task MilterAsync(byte[] input)
    {
        await using var client = new MilterClient(Milters.Milters[0], Milters);
        CancellationToken none = CancellationToken.None;
        await client.OpenAsync(new ReplayStream(input), none);
        _ = await client.ConnectAsync("client.example", "192.0.2.1", 40000, Macros, none);
        _ = await client.HeloAsync("client.example", Macros, none);
        _ = await client.MailAsync(["<a@example.org>", "SIZE=100"], Macros, none);
        _ = await client.RcptAsync(["<b@example.org>"], Macros, none);
        _ = await client.UnknownAsync("XYZZY", Macros, none);
        _ = await client.DataAsync(Macros, none);
        var edits = new MilterEdits();
        _ = await client.MessageAsync(Message(), skipFirstHeader: true, Macros, edits, none);
        foreach (HeaderEdit edit in edits.Headers)
        {
            _ = MilterEdits.HeaderBytes(edit.Name, edit.Value);
        }
        _ = edits.Body?.ToArray();
    }

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Message([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask;
        yield return "Received: from client.example\r\n\tby mx.fuzz.example\r\n"u8.ToArray();
        yield return "Subject: fuzz\r\nFrom: <a@example.org>\r\n\r\nbody\r\n"u8.ToArray();
    }

    private static readonly byte[] Request = Encoding.UTF8.GetBytes("request=smtpd_access_policy\nprotocol_state=RCPT\n\n");
    private static readonly Peer Client = Peer.FromEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.9"), 40000));
    private static readonly AddressClassifier Classifier = new(new DomainSet(["example.com"]), new DomainSet([]), new DomainSet([]), new DomainSet([]));

    /// <summary>
    /// A policy server's answers, one request after another on the same connection, each action= carried out as the
    /// restriction does (an access(5) action: OK, REJECT text, DEFER_IF_PERMIT, PREPEND, FILTER, a restriction list …).
    /// </summary>
    public static void Policy(byte[] input)
    {
        RestrictionSettings settings = SessionTarget.Settings.Restrictions;
        using var connection = new PolicyConnection(new ReplayStream(input));
        while (true)
        {
            string action;
            try
            {
                action = connection.AskAsync(Request, CancellationToken.None).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is IOException or ProtocolViolationException)
            {
                // The server closed the connection or broke the protocol: the request is tried again elsewhere.
                return;
            }
            var context = new CheckContext(Client, false, "client.example", "a@example.org"u8, "b@example.com"u8,
                new Resolution(AddressClass.Local, false), null, Classifier);
            _ = AccessResult.Apply(settings, new RestrictionStep(Restriction.CheckPolicyService), Subject.Recipient, context, 0, action);
        }
    }
}
