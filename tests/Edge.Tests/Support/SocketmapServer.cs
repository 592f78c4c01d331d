using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace Edge.Tests.Support;

/// <summary>
/// A Sendmail socketmap server on 127.0.0.1 whose replies a test scripts: each request ("name key", a netstring) is
/// recorded and answered with what <see cref="Answer"/> says for it, sent as a netstring unless <see cref="Raw"/> is set, after
/// <see cref="Delay"/>.
/// </summary>
public sealed class SocketmapServer : LoopbackServer
{
    public Func<string, string> Answer { get; set; } = _ => "NOTFOUND ";

    /// <summary>Sent as it is, instead of a netstring: a server that speaks something else.</summary>
    public byte[]? Raw { get; set; }

    public TimeSpan Delay { get; set; }

    public ConcurrentQueue<string> Requests { get; } = new();

    protected override async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            NetworkStream stream = client.GetStream();
            var input = new List<byte>();
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    int colon = input.IndexOf((byte)':');
                    if (colon > 0 && int.Parse(Encoding.ASCII.GetString([.. input.Take(colon)])) is int length
                        && input.Count >= colon + length + 2)
                    {
                        string request = Encoding.UTF8.GetString([.. input.Skip(colon + 1).Take(length)]);
                        input.RemoveRange(0, colon + length + 2);
                        Requests.Enqueue(request);
                        await Task.Delay(Delay, Stopping);
                        byte[] reply = Raw ?? Netstring(Answer(request));
                        await stream.WriteAsync(reply, Stopping);
                        continue;
                    }
                    int n = await stream.ReadAsync(buffer, Stopping);
                    if (n == 0)
                    {
                        return;
                    }
                    input.AddRange(buffer.Take(n));
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
            }
        }
    }

    private static byte[] Netstring(string text)
    {
        byte[] data = Encoding.UTF8.GetBytes(text);
        return [.. Encoding.ASCII.GetBytes($"{data.Length}:"), .. data, (byte)','];
    }
}
