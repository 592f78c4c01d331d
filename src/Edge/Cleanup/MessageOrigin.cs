using Edge.Logging;
using Edge.Mail;

namespace Edge.Cleanup;

/// <summary>The message cleanup is working on, described for its log lines only when one is written.</summary>
internal sealed class MessageOrigin
{
    private Envelope _envelope = null!;
    private Submission _submission = null!;

    public void Set(Envelope envelope, Submission submission)
    {
        _envelope = envelope;
        _submission = submission;
    }

    public QueueId Id => _envelope.Id;

    /// <summary>Postfix's cleanup_act_log() tail: "from host[addr]; from=&lt;…&gt; to=&lt;…&gt; proto=… helo=&lt;…&gt;".</summary>
    public string Describe() => $"from {Client}; {Whatsup()}";

    /// <summary>The client as "host[addr]".</summary>
    public string Client => $"{_submission.Client.Name}[{_submission.Client.Address}]";

    /// <summary>"from=&lt;…&gt; to=&lt;…&gt; proto=… helo=&lt;…&gt;": the sender, the last recipient, the protocol and the HELO name.</summary>
    public string Whatsup()
    {
        string helo = _submission.Helo is null ? "" : $" helo=<{_submission.Helo}>";
        return $"{Addresses()} proto={_submission.Client.Protocol}{helo}";
    }

    /// <summary>"from=&lt;…&gt; to=&lt;…&gt;": the sender and the last recipient.</summary>
    public string Addresses()
    {
        ReadOnlySpan<byte> last = _envelope.RecipientCount > 0 ? _envelope[_envelope.Recipients[^1].Address] : default;
        return $"from=<{Printable.Text(_envelope[_envelope.Sender])}> to=<{Printable.Text(last)}>";
    }

    /// <summary>What a mail filter decided about the message, as Postfix's cleanup logs it: "ID: milter-reject: END-OF-MESSAGE from host[addr]: text; from=…".</summary>
    public void LogMilter(string action, string text) =>
        MailLog.Info($"{Id}: {action}: END-OF-MESSAGE from {Client}: {text}; {Whatsup()}", "cleanup");
}
