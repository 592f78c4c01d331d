using System.Buffers;

namespace Edge.Tests.Support;

/// <summary>A ReadOnlySequence made of several segments, as a pipe hands over input that arrived in pieces.</summary>
public static class Segments
{
    public static ReadOnlySequence<byte> Of(params byte[][] parts)
    {
        var first = new Segment(parts[0], 0);
        Segment last = first;
        foreach (byte[] part in parts[1..])
        {
            last = last.Append(part);
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes, long index)
        {
            Memory = bytes;
            RunningIndex = index;
        }

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
