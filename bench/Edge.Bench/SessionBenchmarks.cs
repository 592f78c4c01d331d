using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using Edge.Hosting;
using Edge.Logging;
using Edge.Queue;
using Edge.Restrictions.Policy.Store;
using Edge.Restrictions.Verify;
using Edge.Smtp.Session;

namespace Edge.Bench;

/// <summary>
/// Whole sessions without a socket: pipes stand in for the connections, the queue is a real FasterLog in a
/// temporary directory. One operation is one message transaction (MAIL, RCPT, DATA, 1 KiB body, 250) in
/// each of <see cref="Sessions"/> concurrent sessions, including the durable group commit; with more than
/// one session, the commits are shared as they are under load. Allocated / Sessions is the cost of one message.
/// </summary>
[MemoryDiagnoser]
public class SessionBenchmarks
{
    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;
        public PipeWriter Output => output;
    }

    /// <summary>
    /// A scripted SMTP client: one long-running loop per session, started and awaited through channels, so
    /// that the benchmark's own machinery allocates next to nothing per message.
    /// </summary>
    private sealed class Client
    {
        public readonly Pipe ToServer = new(new PipeOptions(useSynchronizationContext: false));
        public readonly Pipe ToClient = new(new PipeOptions(useSynchronizationContext: false));
        public readonly Channel<bool> Go = Channel.CreateUnbounded<bool>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        public readonly Channel<int> Done = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        public Task? Session;
        public Task? Loop;
    }

    private static readonly byte[] Envelope = "MAIL FROM:<sender@example.org> SIZE=1100\r\nRCPT TO:<postmaster@localhost>\r\nDATA\r\n"u8.ToArray();
    private static readonly byte[] Body = System.Text.Encoding.ASCII.GetBytes(
        "Subject: benchmark\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 62) + "\r\n", 16)) + ".\r\n");

    private string _directory = "";
    private QueueStore? _queue;
    private Client[] _clients = [];

    [Params(1, 16)]
    public int Sessions { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        MailLog.Configure("bench.example", TextWriter.Null);
        _directory = Path.Combine(Path.GetTempPath(), "edge-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        File.WriteAllText(Path.Combine(_directory, "main.cf"), $"myhostname = mx.bench.example\nqueue_directory = {_directory}/var\nmydestination = localhost\n");
        File.WriteAllText(Path.Combine(_directory, "master.cf"), "127.0.0.1:0 inet n - n - - smtpd\n");
        var (_, _, listeners) = EdgeServer.LoadConfiguration(_directory, new PolicyStores(openFaster: false), new AddressVerifier(), _ => { });
        _queue = await QueueStore.OpenAsync(Path.Combine(_directory, "var"));
        await LogMemory.FillAsync(_queue);
        _clients = new Client[Sessions];
        for (int i = 0; i < Sessions; i++)
        {
            var client = new Client();
            var session = new SmtpSession(listeners[0].Settings, _queue, new Anvil(), new DuplexPipe(client.ToServer.Reader, client.ToClient.Writer),
                new IPEndPoint(IPAddress.Loopback, 40000 + i), CancellationToken.None, CancellationToken.None, CancellationToken.None);
            client.Session = session.RunAsync();
            await ReadReplyAsync(client);
            await client.ToServer.Writer.WriteAsync("EHLO client.bench.example\r\n"u8.ToArray());
            await ReadReplyAsync(client);
            client.Loop = RunClientAsync(client);
            _clients[i] = client;
        }
    }

    [Benchmark]
    public async Task<int> MessageTransactions()
    {
        foreach (Client client in _clients)
        {
            client.Go.Writer.TryWrite(true);
        }
        int sum = 0;
        foreach (Client client in _clients)
        {
            sum += await client.Done.Reader.ReadAsync();
        }
        return sum;
    }

    /// <summary>
    /// One transaction per go: MAIL, RCPT and DATA pipelined, their three replies, then the body and its
    /// reply. The replies are read in this one loop, not in a helper per reply, so that the client allocates
    /// no state machine per message: the benchmark counts the server's allocations, not its own.
    /// </summary>
    private static async Task RunClientAsync(Client client)
    {
        PipeReader reader = client.ToClient.Reader;
        while (await client.Go.Reader.WaitToReadAsync())
        {
            client.Go.Reader.TryRead(out _);
            await client.ToServer.Writer.WriteAsync(Envelope);
            int replies = 0;
            int digit = 0;
            while (replies < 4)
            {
                ReadResult result = await reader.ReadAsync();
                ReadOnlySequence<byte> buffer = result.Buffer;
                replies += TakeReplies(ref buffer, ref digit);
                reader.AdvanceTo(buffer.Start, result.Buffer.End);
                if (replies == 3)
                {
                    await client.ToServer.Writer.WriteAsync(Body);
                }
            }
            client.Done.Writer.TryWrite(digit);
        }
    }

    private static async Task ReadReplyAsync(Client client)
    {
        PipeReader reader = client.ToClient.Reader;
        int digit = 0;
        for (int replies = 0; replies == 0;)
        {
            ReadResult result = await reader.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            replies = TakeReplies(ref buffer, ref digit);
            reader.AdvanceTo(buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>
    /// Takes the complete lines off the front of <paramref name="buffer"/>: returns how many replies they
    /// ended, with the first digit of the last one's code in <paramref name="digit"/>.
    /// </summary>
    private static int TakeReplies(ref ReadOnlySequence<byte> buffer, ref int digit)
    {
        int replies = 0;
        while (buffer.PositionOf((byte)'\n') is SequencePosition lf)
        {
            ReadOnlySequence<byte> line = buffer.Slice(0, lf);
            buffer = buffer.Slice(buffer.GetPosition(1, lf));
            if (line.Length > 3 && line.Slice(3, 1).FirstSpan[0] == (byte)' ')
            {
                digit = line.FirstSpan[0] - '0';
                replies++;
            }
        }
        return replies;
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        foreach (Client client in _clients)
        {
            client.Go.Writer.TryComplete();
            await client.Loop!;
            await client.ToServer.Writer.CompleteAsync();
            await client.Session!;
        }
        await _queue!.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
