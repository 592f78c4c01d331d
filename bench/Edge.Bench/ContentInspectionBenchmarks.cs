using System.Text;
using BenchmarkDotNet.Attributes;
using Edge.Cleanup;
using Edge.Config;
using Edge.Hosting;
using Edge.Mail;
using Edge.Queue;

namespace Edge.Bench;

/// <summary>
/// header_checks and body_checks on one MIME message (a text part and a base64 attachment): 100 pcre header rules
/// and 100 pcre body rules, none of which matches, the usual case. Size is the message's size in bytes.
/// <see cref="InspectMessage"/> is the checks alone; <see cref="CleanupStage"/> is the whole cleanup stage as a session
/// drives it (the Received: header, the message in 4 KiB pieces, the checks, the envelope and the append to the real
/// queue), with a commit every 64 messages as the queue's group commit shares one among many.
/// </summary>
[MemoryDiagnoser]
public class ContentInspectionBenchmarks
{
    private const int Piece = 4096;

    private readonly CountingSink _sink = new();
    private readonly MessageOrigin _origin = new();
    private readonly CommitWaiter _waiter = new();
    private QueueId _id;
    private ContentInspector _inspector = null!;
    private byte[] _message = [];
    private string _directory = "";
    private QueueStore _queue = null!;
    private CleanupMessage _cleanup = null!;
    private CleanupSettings _settings = null!;
    private Submission _submission = null!;
    private readonly Envelope _envelope = new();
    private int _appended;

    [Params(10 * 1024, 40 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _directory = Directory.CreateTempSubdirectory("edge-bench-").FullName;
        File.WriteAllLines(Path.Combine(_directory, "header_checks"),
            Enumerable.Range(0, 100).Select(i => $"/^Subject:.*\\bspamword{i}\\b/ REJECT rule {i}"));
        File.WriteAllLines(Path.Combine(_directory, "body_checks"),
            Enumerable.Range(0, 100).Select(i => $"/forbidden phrase number {i}/ REJECT rule {i}"));
        File.WriteAllText(Path.Combine(_directory, "main.cf"),
            $"header_checks = pcre:{_directory}/header_checks\nbody_checks = pcre:{_directory}/body_checks\n");
        MainConfig config = MainConfig.Load(_directory);
        _settings = CleanupSettings.From(config, SmtpdSettingsFactory.Classifier(config), new HashSet<string>());
        _inspector = new ContentInspector(_settings.Checks, _settings.Headers);
        StartEnvelope();
        _id = _envelope.Id;
        _submission = new Submission(new EnvelopeRecord.Client("client.example", "192.0.2.1", "client.example", "ESMTP"),
            "client.example", TlsSummary: null, Received: true, LocalHeaders: false);
        _origin.Set(_envelope, _submission);
        _message = Encoding.ASCII.GetBytes(Message(Size));
        _queue = await QueueStore.OpenAsync(Path.Combine(_directory, "queue"));
        await LogMemory.FillAsync(_queue);
        _cleanup = new CleanupMessage(_queue);
    }

    private void StartEnvelope()
    {
        _envelope.Begin(QueueId.New(), "sender@example.org"u8, default, DsnReturn.Unspecified, BodyType.Unspecified, smtpUtf8: false);
        _envelope.AddRecipient("user@edge.test"u8, default, DsnNotify.Unspecified);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _cleanup.Dispose();
        await _queue.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static string Message(int size)
    {
        var text = new StringBuilder();
        text.Append("Received: from client.example (client.example [192.0.2.1])\r\n\tby mx.edge.test (Edge) with ESMTP id 4jh9cD4Ndj\r\n\tfor <user@edge.test>; Sat, 05 Dec 2026 01:23:40 +0000\r\n");
        text.Append("From: Sender <sender@example.org>\r\nTo: User <user@edge.test>\r\nSubject: The monthly report\r\n");
        text.Append("Date: Sat, 05 Dec 2026 01:23:40 +0000\r\nMessage-ID: <abc.123@example.org>\r\nMIME-Version: 1.0\r\n");
        text.Append("Content-Type: multipart/mixed; boundary=\"part-boundary\"\r\n\r\n--part-boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
        while (text.Length < size / 2)
        {
            text.Append("Here is the report for this month, with the figures we discussed last week.\r\n");
        }
        text.Append("--part-boundary\r\nContent-Type: application/pdf; name=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        while (text.Length < size - 40)
        {
            text.Append("JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29k\r\n");
        }
        return text.Append("--part-boundary--\r\n").ToString();
    }

    [Benchmark]
    public long InspectMessage()
    {
        _inspector.Begin(_sink, _id, _origin);
        _inspector.Write(_message);
        _inspector.Complete();
        _inspector.Release();
        return _sink.Bytes;
    }

    [Benchmark]
    public async Task<long> CleanupStage()
    {
        StartEnvelope();
        _cleanup.Begin(_settings, _envelope, _submission, sizeLimit: 10 * 1024 * 1024);
        for (int offset = 0; offset < _message.Length; offset += Piece)
        {
            _cleanup.Write(_message.AsSpan(offset, Math.Min(Piece, _message.Length - offset)));
        }
        CleanupResult result = _cleanup.End(saved: null);
        if (result.Outcome != CleanupOutcome.Queued)
        {
            throw new InvalidOperationException($"cleanup did not queue the message: {result.Outcome}");
        }
        if (++_appended % 64 == 0)
        {
            await _cleanup.WaitCommittedAsync(result.Address, _waiter);
        }
        _cleanup.Release();
        return result.Address;
    }
}
