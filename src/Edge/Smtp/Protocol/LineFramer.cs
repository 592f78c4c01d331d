using System.Buffers;

namespace Edge.Smtp.Protocol;

internal enum LineStatus : byte
{
    /// <summary>No complete line yet: wait for more input.</summary>
    NeedMore,
    Line,
    /// <summary>
    /// The line exceeds the limit. As Postfix does, its first limit bytes are the command and the rest is
    /// discarded as it arrives (<see cref="LineFramer.SkipRestOfLine"/>), never buffered.
    /// </summary>
    Truncated,
}

/// <summary>
/// Finds command lines in the receive buffer. The search never looks further than the limit, so a client
/// that sends an endless line costs at most one limit of buffering.
/// </summary>
internal static class LineFramer
{
    /// <summary>
    /// Tries to take one line (without its ending) from <paramref name="buffer"/>, advancing the buffer past
    /// it. <paramref name="bareLf"/> tells whether the line ended in a lone LF; <paramref name="skipRest"/>
    /// whether a truncated line's ending is still to come.
    /// </summary>
    public static LineStatus TryReadLine(ref ReadOnlySequence<byte> buffer, int limit,
        out ReadOnlySequence<byte> line, out bool bareLf, out bool skipRest)
    {
        bareLf = false;
        skipRest = false;
        ReadOnlySequence<byte> window = buffer.Length > limit + 2 ? buffer.Slice(0, limit + 2) : buffer;
        SequencePosition? lf = window.PositionOf((byte)'\n');
        if (lf is null)
        {
            if (window.Length >= limit + 2)
            {
                line = buffer.Slice(0, limit);
                buffer = buffer.Slice(window.End);
                skipRest = true;
                return LineStatus.Truncated;
            }
            line = default;
            return LineStatus.NeedMore;
        }

        ReadOnlySequence<byte> raw = buffer.Slice(0, lf.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
        if (raw.Length > 0 && EndsWithCr(raw))
        {
            raw = raw.Slice(0, raw.Length - 1);
        }
        else
        {
            bareLf = true;
        }
        if (raw.Length > limit)
        {
            line = raw.Slice(0, limit);
            return LineStatus.Truncated;
        }
        line = raw;
        return LineStatus.Line;
    }

    /// <summary>Discards the rest of an over-long line. Returns true once its LF was consumed.</summary>
    public static bool SkipRestOfLine(ref ReadOnlySequence<byte> buffer)
    {
        SequencePosition? lf = buffer.PositionOf((byte)'\n');
        if (lf is null)
        {
            buffer = buffer.Slice(buffer.End);
            return false;
        }
        buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
        return true;
    }

    private static bool EndsWithCr(in ReadOnlySequence<byte> raw)
    {
        if (raw.IsSingleSegment)
        {
            return raw.FirstSpan[^1] == (byte)'\r';
        }
        return raw.Slice(raw.Length - 1).FirstSpan[0] == (byte)'\r';
    }
}
