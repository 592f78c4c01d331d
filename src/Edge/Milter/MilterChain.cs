namespace Edge.Milter;

/// <summary>
/// The filters of one session, in the order configured (Postfix's milters.c): each event goes to each filter in turn
/// until one answers with something other than "go on". <see cref="Macros"/> holds the values of the macros the
/// producer knows; each event sends those its stage's list names.
/// </summary>
internal sealed class MilterChain : IAsyncDisposable
{
    private readonly MilterClient[] _clients;
    private bool _abortDue;

    private MilterChain(MilterSettings settings) =>
        _clients = [.. settings.Milters.Select(definition => new MilterClient(definition, settings))];

    public Dictionary<string, string> Macros { get; } = new(StringComparer.Ordinal);

    /// <summary>Connects to every filter of <paramref name="settings"/>, with the macros that do not change per message.</summary>
    public static async Task<MilterChain> OpenAsync(MilterSettings settings, CancellationToken cancellationToken)
    {
        var chain = new MilterChain(settings);
        chain.Macros["j"] = settings.MyHostname;
        chain.Macros["{daemon_name}"] = settings.DaemonName;
        chain.Macros["v"] = settings.Version;
        await Task.WhenAll(chain._clients.Select(c => c.OpenAsync(cancellationToken)));
        return chain;
    }

    public Task<string?> ConnectAsync(string name, string address, int port, CancellationToken cancellationToken) =>
        EachAsync(c => c.ConnectAsync(name, address, port, Macros, cancellationToken), cancellationToken);

    public Task<string?> HeloAsync(string helo, CancellationToken cancellationToken) =>
        EachAsync(c => c.HeloAsync(helo, Macros, cancellationToken), cancellationToken);

    public Task<string?> MailAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        EachAsync(c => c.MailAsync(arguments, Macros, cancellationToken), cancellationToken);

    public Task<string?> RcptAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        EachAsync(c => c.RcptAsync(arguments, Macros, cancellationToken), cancellationToken);

    /// <summary>
    /// A recipient the server refused, to the filters that asked for such (SMFIP_RCPT_REJ), as Postfix's smtpd does:
    /// with {rcpt_mailer} "error", {rcpt_host} the refusal's status code and {rcpt_addr} its text. Their answers change nothing.
    /// </summary>
    public Task RejectedRcptAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        EachAsync(c => c.WantsRejectedRecipients ? c.RcptAsync(arguments, Macros, cancellationToken) : Task.FromResult<string?>(null), cancellationToken);

    /// <summary>Whether some filter asked to see the recipients the server refuses (SMFIP_RCPT_REJ).</summary>
    public bool WantsRejectedRecipients => Array.Exists(_clients, c => c.WantsRejectedRecipients);

    /// <summary>A command the server does not know: a filter's answer, which only a 4xx one can change (Postfix's milter_unknown_reply_override).</summary>
    public Task<string?> UnknownAsync(string command, CancellationToken cancellationToken) =>
        EachAsync(c => c.UnknownAsync(command, Macros, cancellationToken), cancellationToken);

    public Task<string?> DataAsync(CancellationToken cancellationToken) =>
        EachAsync(c => c.DataAsync(Macros, cancellationToken), cancellationToken);

    /// <summary>
    /// The message to each filter in turn; after a filter that asked for changes, <paramref name="apply"/> makes them,
    /// and the next filter sees the changed message, as Postfix's cleanup edits the queue file between filters.
    /// </summary>
    public async Task<string?> MessageAsync(Func<IAsyncEnumerable<ReadOnlyMemory<byte>>> content, bool skipFirstHeader,
        Func<MilterEdits, Task> apply, CancellationToken cancellationToken)
    {
        foreach (MilterClient client in _clients)
        {
            var edits = new MilterEdits();
            string? reply = await client.MessageAsync(content(), skipFirstHeader, Macros, edits, cancellationToken);
            if (edits.ChangesContent || edits.ChangesEnvelope)
            {
                await apply(edits);
            }
            if (reply is not null)
            {
                return reply;
            }
        }
        return null;
    }

    /// <summary>The transaction ended without a message: each filter is told before its next event.</summary>
    public void Abort() => _abortDue = true;

    public async ValueTask DisposeAsync()
    {
        foreach (MilterClient client in _clients)
        {
            await client.DisposeAsync();
        }
    }

    private async Task<string?> EachAsync(Func<MilterClient, Task<string?>> send, CancellationToken cancellationToken)
    {
        if (_abortDue)
        {
            _abortDue = false;
            foreach (MilterClient client in _clients)
            {
                await client.AbortAsync(cancellationToken);
            }
        }
        foreach (MilterClient client in _clients)
        {
            if (await send(client) is { } reply)
            {
                return reply;
            }
        }
        return null;
    }
}
