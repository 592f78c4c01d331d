using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Edge.Tests.Support;

/// <summary>
/// A tcp_table(5) server on 127.0.0.1 whose replies a test scripts: each request line ("get KEY", KEY %XX-quoted) is
/// recorded and answered with the line <see cref="Answer"/> gives for it.
/// </summary>
public sealed class TcpMapServer : LoopbackServer
{
    public Func<string, string> Answer { get; set; } = _ => "500 not found";

    public ConcurrentQueue<string> Requests { get; } = new();

    protected override async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var reader = new StreamReader(client.GetStream(), Encoding.ASCII);
            var writer = new StreamWriter(client.GetStream(), Encoding.ASCII) { NewLine = "\n", AutoFlush = true };
            try
            {
                while (await reader.ReadLineAsync(Stopping) is { } line)
                {
                    Requests.Enqueue(line);
                    await writer.WriteLineAsync(Answer(line));
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
            }
        }
    }
}
