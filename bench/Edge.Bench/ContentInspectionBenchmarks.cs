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
/// </summary>
[MemoryDiagnoser]
public class ContentInspectionBenchmarks
{
    private readonly CountingSink _sink = new();
    private readonly MessageOrigin _origin = new();
    private QueueId _id;
    private ContentInspector _inspector = null!;
    private byte[] _message = [];
    private string _directory = "";

    [Params(10 * 1024, 40 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("edge-bench-").FullName;
        File.WriteAllLines(Path.Combine(_directory, "header_checks"),
            Enumerable.Range(0, 100).Select(i => $"/^Subject:.*\\bspamword{i}\\b/ REJECT rule {i}"));
        File.WriteAllLines(Path.Combine(_directory, "body_checks"),
            Enumerable.Range(0, 100).Select(i => $"/forbidden phrase number {i}/ REJECT rule {i}"));
        File.WriteAllText(Path.Combine(_directory, "main.cf"),
            $"header_checks = pcre:{_directory}/header_checks\nbody_checks = pcre:{_directory}/body_checks\n");
        MainConfig config = MainConfig.Load(_directory);
        CleanupSettings settings = CleanupSettings.From(config, SmtpdSettingsFactory.Classifier(config), new HashSet<string>());
        _inspector = new ContentInspector(settings.Checks, settings.Headers);
        var envelope = new Envelope();
        envelope.Begin(QueueId.New(), "sender@example.org"u8, default, DsnReturn.Unspecified, BodyType.Unspecified, smtpUtf8: false);
        envelope.AddRecipient("user@edge.test"u8, default, DsnNotify.Unspecified);
        _id = envelope.Id;
        _origin.Set(envelope, new Submission(new EnvelopeRecord.Client("client.example", "192.0.2.1", "client.example", "ESMTP"),
            "client.example", TlsSummary: null, Received: true));
        _message = Encoding.ASCII.GetBytes(Message(Size));
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

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
}
