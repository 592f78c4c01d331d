using Edge.Queue;

namespace Edge.Delivery.Smtp;

/// <summary>
/// The recipients of one delivery as the conversation decides them: a recipient's first decision stands,
/// and the ones the server accepted at RCPT wait for the reply to the message.
/// </summary>
internal sealed class RecipientResults(IReadOnlyList<QueuedRecipient> recipients)
{
    private readonly RecipientOutcome?[] _outcomes = new RecipientOutcome?[recipients.Count];
    private readonly List<int> _accepted = [];

    /// <summary>Indexes of the recipients accepted at RCPT, in the order they were sent.</summary>
    public IReadOnlyList<int> Accepted => _accepted;

    public void Accept(int index) => _accepted.Add(index);

    /// <param name="dsnPassedOn">The server took the DSN parameters with the message.</param>
    public void Decide(int index, RecipientStatus status, string dsn, string reply, string relay, bool dsnPassedOn = false) =>
        _outcomes[index] ??= new RecipientOutcome(recipients[index], status, dsn, reply, relay, dsnPassedOn);

    /// <summary>Decides every recipient not decided yet, the accepted ones included.</summary>
    public void DecideRemaining(RecipientStatus status, string dsn, string reply, string relay, bool dsnPassedOn = false)
    {
        for (int i = 0; i < _outcomes.Length; i++)
        {
            Decide(i, status, dsn, reply, relay, dsnPassedOn);
        }
    }

    public IReadOnlyList<RecipientOutcome> ToList() =>
        Array.ConvertAll(_outcomes, o => o ?? throw new InvalidOperationException("a recipient was left undecided"));
}
