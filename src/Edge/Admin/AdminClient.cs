using System.Net.Sockets;
using System.Text;
using Edge.Queue;

namespace Edge.Admin;

/// <summary>
/// How the tools reach the queue: through the running server's admin socket, or, when no server owns the
/// queue, by opening the log read-only and answering the same way the server would.
/// </summary>
internal static class AdminClient
{
    /// <summary>Writes the answer to <paramref name="output"/>; returns false when the answer was an error.</summary>
    public static async Task<bool> RequestAsync(string queueDirectory, string request, Stream output, TextWriter error,
        bool serverOnly = false)
    {
        string socketPath = AdminSocket.PathOf(queueDirectory);
        if (File.Exists(socketPath) && !QueueLock.IsFree(queueDirectory))
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
            await socket.SendAsync(Encoding.UTF8.GetBytes(request + "\n"));
            await using var stream = new NetworkStream(socket, ownsSocket: false);
            return await CopyAnswerAsync(stream, output, error);
        }
        if (serverOnly)
        {
            await error.WriteLineAsync($"fatal: no Edge server is running on the queue in {queueDirectory}");
            return false;
        }
        if (!Directory.Exists(Path.Combine(queueDirectory, "log")))
        {
            await error.WriteLineAsync($"fatal: no queue in {queueDirectory} (queue_directory): has the server ever run here?");
            return false;
        }
        // postsuper changes the queue, so it opens it as the server would; the other tools only read.
        await using QueueStore store = request.StartsWith("SUPER ", StringComparison.Ordinal)
            ? await QueueStore.OpenAsync(queueDirectory)
            : await QueueStore.OpenForToolAsync(queueDirectory);
        using var answer = new MemoryStream();
        await new AdminSocket(store).AnswerForToolAsync(request, answer);
        answer.Position = 0;
        return await CopyAnswerAsync(answer, output, error);
    }

    private static async Task<bool> CopyAnswerAsync(Stream answer, Stream output, TextWriter error)
    {
        byte[] head = new byte[4];
        int read = 0;
        while (read < head.Length)
        {
            int n = await answer.ReadAsync(head.AsMemory(read));
            if (n == 0)
            {
                break;
            }
            read += n;
        }
        if (read == 4 && head.AsSpan().SequenceEqual("ERR "u8))
        {
            using var reader = new StreamReader(answer);
            await error.WriteLineAsync("fatal: " + (await reader.ReadToEndAsync()).TrimEnd());
            return false;
        }
        await output.WriteAsync(head.AsMemory(0, read));
        await answer.CopyToAsync(output);
        await output.FlushAsync();
        return true;
    }
}
