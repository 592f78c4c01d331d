using System.Text;
using BenchmarkDotNet.Attributes;
using Edge.Smtp.Data;

namespace Edge.Bench;

/// <summary>DATA decoding of one 64 KiB receive buffer of typical text lines.</summary>
[MemoryDiagnoser]
public class DataScannerBenchmarks
{
    private readonly DataScanner _scanner = new();
    private readonly CountingSink _sink = new();
    private byte[] _chunk = [];

    [GlobalSetup]
    public void Setup()
    {
        var text = new StringBuilder();
        while (text.Length < 64 * 1024 - 100)
        {
            text.Append("The quick brown fox jumps over the lazy dog; ").Append(text.Length % 7 == 0 ? ".stuffed" : "line").Append("\r\n");
        }
        _chunk = Encoding.ASCII.GetBytes(text.ToString());
    }

    [Benchmark]
    public long ScanChunk()
    {
        _scanner.StartData(BareNewlineMode.Normalize);
        _scanner.Scan(_chunk, _sink, out int consumed);
        return consumed;
    }
}
