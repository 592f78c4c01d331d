using Edge.Mail;

namespace Edge.Bench;

/// <summary>A content sink that only counts: what a benchmark of a stage in front of the queue writes into.</summary>
internal sealed class CountingSink : IContentSink
{
    public long Bytes;

    public void Write(ReadOnlySpan<byte> content) => Bytes += content.Length;
}
