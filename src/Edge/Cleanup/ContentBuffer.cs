using System.Buffers;
using Edge.Mail;

namespace Edge.Cleanup;

/// <summary>Content held in memory for a moment: what checks pass on before it is written elsewhere.</summary>
internal sealed class ContentBuffer : IContentSink
{
    public ArrayBufferWriter<byte> Buffer { get; } = new(4096);

    public void Write(ReadOnlySpan<byte> content) => Buffer.Write(content);
}
