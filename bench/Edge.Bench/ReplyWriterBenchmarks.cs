using System.Buffers;
using BenchmarkDotNet.Attributes;
using Edge.Smtp.Protocol;

namespace Edge.Bench;

/// <summary>Writing replies into the output buffer: a fixed reply, and one with a queue ID.</summary>
[MemoryDiagnoser]
public class ReplyWriterBenchmarks
{
    private readonly ArrayBufferWriter<byte> _output = new(4096);

    [Benchmark]
    public int FixedReply()
    {
        _output.ResetWrittenCount();
        new ReplyWriter(_output).Line(Replies.RcptOk);
        return _output.WrittenCount;
    }

    [Benchmark]
    public int QueuedReply()
    {
        _output.ResetWrittenCount();
        var reply = new ReplyWriter(_output);
        reply.Write(Replies.QueuedAs);
        reply.WriteAscii("4jX91m6dkb");
        reply.CrLf();
        reply.Write(Replies.BdatOkPrefix);
        reply.WriteNumber(123456);
        reply.Line(Replies.BdatBytes);
        return _output.WrittenCount;
    }
}
