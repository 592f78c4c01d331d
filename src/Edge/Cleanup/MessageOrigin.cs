using Edge.Logging;
using Edge.Mail;
using Edge.Queue;

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
    public string Describe()
    {
        ReadOnlySpan<byte> last = _envelope.RecipientCount > 0 ? _envelope[_envelope.Recipients[^1].Address] : default;
        EnvelopeRecord.Client client = _submission.Client;
        string helo = _submission.Helo is null ? "" : $" helo=<{_submission.Helo}>";
        return $"from {client.Name}[{client.Address}]; from=<{Printable.Text(_envelope[_envelope.Sender])}> to=<{Printable.Text(last)}> proto={client.Protocol}{helo}";
    }
}
