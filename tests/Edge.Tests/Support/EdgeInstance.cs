using Edge.Hosting;
using Edge.Queue;

namespace Edge.Tests.Support;

/// <summary>
/// A real Edge server in the test process: a configuration directory with the test's main.cf lines, a
/// listener on 127.0.0.1 with a port the system picks, and its own queue.
/// </summary>
public sealed class EdgeInstance : IAsyncDisposable
{
    private readonly EdgeServer _server;
    private bool _stopped;

    private EdgeInstance(TempDirectory directory, EdgeServer server, bool ownsDirectory)
    {
        Directory = directory;
        _server = server;
        OwnsDirectory = ownsDirectory;
    }

    public TempDirectory Directory { get; }
    private bool OwnsDirectory { get; }

    public int Port => _server.Endpoints[0].Port;

    internal QueueStore Queue => _server.Queue;

    public string QueueDirectory => Path.Combine(Directory.Path, "var");

    /// <summary>
    /// The main.cf every test starts from; tests add or override lines. Tests address made-up local users
    /// (user@edge.test), so local recipients are not checked against the password file and aliases unless a
    /// test sets local_recipient_maps again (RecipientValidationTests). Test clients connect from 127.0.0.1 but stand
    /// for clients on the internet, whose headers cleanup leaves alone: local_header_rewrite_clients is empty unless a
    /// test sets it (HeaderRewritingTests).
    /// </summary>
    public static string BaseMainCf(TempDirectory directory) => $"""
        myhostname = mx.edge.test
        mydestination = localhost, edge.test
        local_recipient_maps =
        queue_directory = {Path.Combine(directory.Path, "var")}
        local_header_rewrite_clients =
        """;

    /// <summary>
    /// Starts a server in a directory of its own, or in <paramref name="reuse"/>, which stays the caller's unless
    /// <paramref name="disposeDirectory"/> gives it to the server to remove when disposed.
    /// </summary>
    public static async Task<EdgeInstance> StartAsync(string mainCf = "", string masterOptions = "",
        TempDirectory? reuse = null, int port = 0, bool disposeDirectory = false)
    {
        TempDirectory directory = reuse ?? new TempDirectory();
        directory.Write("main.cf", BaseMainCf(directory) + "\n" + mainCf + "\n");
        directory.Write("master.cf", $"127.0.0.1:{port} inet n - n - - smtpd {masterOptions}\n");
        EdgeServer server = await EdgeServer.StartAsync(directory.Path);
        return new EdgeInstance(directory, server, reuse is null || disposeDirectory);
    }

    /// <summary>Stops the server and starts it again on the same directory (and queue).</summary>
    public async Task<EdgeInstance> RestartAsync()
    {
        await StopAsync();
        EdgeServer server = await EdgeServer.StartAsync(Directory.Path);
        return new EdgeInstance(Directory, server, OwnsDirectory);
    }

    public Task<SmtpConnection> ConnectAsync(bool readGreeting = true) => SmtpConnection.OpenAsync(Port, readGreeting);

    /// <summary>
    /// One message from sender@example.org to <paramref name="recipients"/> (user@edge.test when none), sent by DATA or
    /// BDAT on a connection of its own; every envelope command must succeed. Returns the reply to the content.
    /// </summary>
    internal async Task<string> SendAsync(string content, bool bdat, params string[] recipients)
    {
        await using var c = await ConnectAsync();
        Assert.StartsWith("250-", await c.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 Ok", await c.CommandAsync("MAIL FROM:<sender@example.org>"));
        foreach (string recipient in recipients.Length == 0 ? ["user@edge.test"] : recipients)
        {
            Assert.Equal("250 2.1.5 Ok", await c.CommandAsync($"RCPT TO:<{recipient}>"));
        }
        if (bdat)
        {
            return await c.BdatAsync(content, last: true);
        }
        Assert.StartsWith("354", await c.CommandAsync("DATA"));
        return await c.CommandAsync(content + ".");
    }

    /// <summary>
    /// What the queue holds, but for the postmaster's transcripts of sessions with errors (notify_classes: Postfix's
    /// default resource and software send one for a 4.3.X reply, which many tests provoke on purpose); the server
    /// writes those from double_bounce_sender, and NotifyClassesTests looks at them with <see cref="AllQueuedAsync"/>.
    /// </summary>
    internal async Task<IReadOnlyList<QueuedMessage>> QueuedAsync() =>
        [.. (await AllQueuedAsync()).Where(m => m.Sender != "double-bounce@mx.edge.test")];

    /// <summary>Everything the queue holds.</summary>
    internal async Task<IReadOnlyList<QueuedMessage>> AllQueuedAsync() => [.. (await Queue.ListAsync()).Select(m => m.Message)];

    /// <summary>The stored content of the only queued message.</summary>
    internal async Task<string> SingleMessageContentAsync()
    {
        IReadOnlyList<QueuedMessage> messages = await QueuedAsync();
        Assert.Single(messages);
        using var content = new MemoryStream();
        await Queue.CopyContentAsync(messages[0], content);
        return System.Text.Encoding.UTF8.GetString(content.ToArray());
    }

    /// <summary>Stops the server and leaves its directory (configuration and queue) in place.</summary>
    public async Task StopAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            await _server.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (OwnsDirectory)
        {
            Directory.Dispose();
        }
    }
}
