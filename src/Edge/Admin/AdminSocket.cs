using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Edge.Mail;
using Edge.Queue;
using Microsoft.AspNetCore.Connections;

namespace Edge.Admin;

/// <summary>
/// The running server's queue, for the tools: a Unix socket at queue_directory/public/showq (Postfix keeps
/// its showq socket there too). A tool writes one request line, "LIST" or "CAT queue-id", and reads the
/// answer until the server closes the connection. "RELOAD" re-reads the configuration, "FLUSH" makes every
/// deferred message due now (postqueue -f), "FLUSH site" those with mail for the site (postqueue -s), "JSON" is postqueue -j, "SUPER -d|-h|-H|-r ID|ALL [queue ...]" is postsuper,
/// "LOG priority tag text" is postlog (the server writes the line into its log). An answer
/// that is an error starts with "ERR ".
/// </summary>
internal sealed class AdminSocket(QueueStore store, Func<string?>? reload = null,
    Func<string?, Task<string?>>? flush = null, Action? wake = null, Func<string, string, string, bool>? log = null)
{
    public static string PathOf(string queueDirectory) => Path.Combine(queueDirectory, "public", "showq");

    public async Task HandleAsync(ConnectionContext connection)
    {
        // Off the socket I/O thread, which also serves SMTP sessions: a listing reads the whole queue.
        await Task.Yield();
        PipeReader input = connection.Transport.Input;
        Stream output = connection.Transport.Output.AsStream(leaveOpen: true);
        string? request = await ReadLineAsync(input, connection.ConnectionClosed);
        try
        {
            await AnswerAsync(request, output, connection.ConnectionClosed);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or IOException)
        {
            // A damaged record, or a change the queue could not commit (a full or failing disk): the tool says so.
            await output.WriteAsync(Encoding.UTF8.GetBytes($"ERR {e.Message}\n"), connection.ConnectionClosed);
        }
        await output.FlushAsync(connection.ConnectionClosed);
        await connection.Transport.Output.CompleteAsync();
    }

    /// <summary>The same answer for a tool that opened a stopped server's queue itself.</summary>
    public Task AnswerForToolAsync(string request, Stream output) => AnswerAsync(request, output, CancellationToken.None);

    private async Task AnswerAsync(string? request, Stream output, CancellationToken cancellationToken)
    {
        if (request == "LIST")
        {
            string text = MailqFormatter.Format(await store.ListAsync(cancellationToken));
            await output.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
            return;
        }
        if (request is "QSHAPE" or "QSHAPE -s")
        {
            string shape = QshapeFormatter.Format(await store.ListAsync(cancellationToken), request.EndsWith("-s"), DateTimeOffset.UtcNow);
            await output.WriteAsync(Encoding.UTF8.GetBytes(shape), cancellationToken);
            return;
        }
        if (request == "JSON")
        {
            await output.WriteAsync(Encoding.UTF8.GetBytes(await QueueAdministration.JsonAsync(store, cancellationToken)), cancellationToken);
            return;
        }
        if (request is not null && request.StartsWith("SUPER -", StringComparison.Ordinal) && request.Length > 9)
        {
            string[] words = request[9..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            string target = words.Length > 0 ? words[0] : "";
            string? summary = words.Length > 0 ? await QueueAdministration.SuperAsync(store, request[7], target, words[1..], wake) : null;
            await output.WriteAsync(Encoding.UTF8.GetBytes(summary ?? $"ERR {target}: no such queue ID\n"), cancellationToken);
            return;
        }
        if (request is not null && (request == "FLUSH" || request.StartsWith("FLUSH ", StringComparison.Ordinal)) && flush is not null)
        {
            string? refused = await flush(request.Length > 6 ? request[6..] : null);
            if (refused is not null)
            {
                await output.WriteAsync(Encoding.UTF8.GetBytes($"ERR {refused}\n"), cancellationToken);
            }
            return;
        }
        if (request == "RELOAD" && reload is not null)
        {
            string? failure = reload();
            await output.WriteAsync(Encoding.UTF8.GetBytes(failure is null ? "reloaded\n" : $"ERR reload failed, the running configuration stays in force: {failure}\n"), cancellationToken);
            return;
        }
        if (request is not null && request.StartsWith("LOG ", StringComparison.Ordinal) && log is not null)
        {
            string[] words = request.Split(' ', 4);
            if (words.Length < 4 || !log(words[1], words[2], words[3]))
            {
                await output.WriteAsync(Encoding.UTF8.GetBytes("ERR bad LOG request\n"), cancellationToken);
            }
            return;
        }
        if (request is not null && request.StartsWith("CAT ", StringComparison.Ordinal))
        {
            string id = request[4..];
            QueuedMessage? message = QueueId.TryParse(id, out QueueId? parsed) ? await store.FindAsync(parsed.Value, cancellationToken) : null;
            if (message is null)
            {
                await output.WriteAsync(Encoding.UTF8.GetBytes($"ERR no message with queue ID {id}\n"), cancellationToken);
                return;
            }
            await PostcatFormatter.WriteAsync(store, message, output, cancellationToken);
            return;
        }
        await output.WriteAsync(Encoding.UTF8.GetBytes("ERR unknown request\n"), cancellationToken);
    }

    private static async Task<string?> ReadLineAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            SequencePosition? lf = buffer.PositionOf((byte)'\n');
            if (lf is not null)
            {
                string line = Encoding.UTF8.GetString(buffer.Slice(0, lf.Value)).TrimEnd('\r');
                input.AdvanceTo(buffer.GetPosition(1, lf.Value));
                return line;
            }
            if (result.IsCompleted || buffer.Length > 1024)
            {
                input.AdvanceTo(buffer.End);
                return null;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
