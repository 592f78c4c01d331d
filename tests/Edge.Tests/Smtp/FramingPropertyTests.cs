using System.Buffers;
using Edge.Mail;
using Edge.Smtp.Data;
using Edge.Smtp.Protocol;
using FsCheck.Xunit;

namespace Edge.Tests.Smtp;

/// <summary>
/// The framers against every way the network can cut the same bytes (FsCheck): command lines (with an over-long
/// one cut at the limit and its rest skipped) and message content through the DATA and BDAT scanners come out the
/// same whether the bytes arrive at once or in pieces of any size. The bytes are drawn from the characters that
/// matter to the framers, so that line ends, dots and bare CRs and LFs are everywhere.
/// </summary>
public class FramingPropertyTests
{
    private static byte[] Text(byte[] raw, string alphabet) => [.. raw.Select(b => (byte)alphabet[b % alphabet.Length])];

    /// <summary>The bytes in pieces whose sizes come from <paramref name="cuts"/> (a size of 0 counts as 1).</summary>
    private static List<byte[]> Pieces(byte[] bytes, byte[] cuts)
    {
        var pieces = new List<byte[]>();
        int offset = 0;
        for (int i = 0; offset < bytes.Length; i++)
        {
            int size = cuts.Length == 0 ? bytes.Length : Math.Max(1, cuts[i % cuts.Length] % 16);
            size = Math.Min(size, bytes.Length - offset);
            pieces.Add(bytes[offset..(offset + size)]);
            offset += size;
        }
        return pieces;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes) => Memory = bytes;

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }

    /// <summary>What is still buffered, then the piece that just arrived, in two segments as a pipe holds them.</summary>
    private static ReadOnlySequence<byte> Buffered(byte[] pending, byte[] piece)
    {
        if (pending.Length == 0)
        {
            return new ReadOnlySequence<byte>(piece);
        }
        var first = new Segment(pending);
        Segment last = first.Append(piece);
        return new ReadOnlySequence<byte>(first, 0, last, piece.Length);
    }

    /// <summary>The command lines as the session takes them, piece after piece: text, bare LF, cut at the limit.</summary>
    private static List<string> Lines(IEnumerable<byte[]> pieces, int limit)
    {
        var lines = new List<string>();
        byte[] pending = [];
        bool skipping = false;
        foreach (byte[] piece in pieces)
        {
            ReadOnlySequence<byte> buffer = Buffered(pending, piece);
            while (true)
            {
                if (skipping)
                {
                    if (!LineFramer.SkipRestOfLine(ref buffer))
                    {
                        break;
                    }
                    skipping = false;
                }
                LineStatus status = LineFramer.TryReadLine(ref buffer, limit, out ReadOnlySequence<byte> line, out bool bareLf, out bool skipRest);
                if (status == LineStatus.NeedMore)
                {
                    break;
                }
                lines.Add($"{Convert.ToHexString(line.ToArray())} {status} {bareLf}");
                skipping = skipRest;
            }
            pending = buffer.ToArray();
        }
        return lines;
    }

    [Property(MaxTest = 1000)]
    public bool Command_lines_do_not_depend_on_how_the_bytes_arrive(byte[] raw, byte[] cuts)
    {
        byte[] bytes = Text(raw, "ab \r\nM");
        return Lines([bytes], 8).SequenceEqual(Lines(Pieces(bytes, cuts), 8));
    }

    private sealed class Collector : IContentSink
    {
        public readonly List<byte> Bytes = [];

        public void Write(ReadOnlySpan<byte> content) => Bytes.AddRange(content);
    }

    /// <summary>What the scanner passes on, where it says the message ends, and whether it saw a bare LF.</summary>
    private static string Content(IEnumerable<byte[]> pieces, BareNewlineMode mode, bool bdat)
    {
        var scanner = new DataScanner();
        if (bdat)
        {
            scanner.StartBdat(mode);
        }
        else
        {
            scanner.StartData(mode);
        }
        var sink = new Collector();
        int total = 0;
        byte[] pending = [];
        foreach (byte[] piece in pieces)
        {
            // What the scanner did not take stays buffered for the next read, as in the session.
            byte[] input = [.. pending, .. piece];
            bool ended = scanner.Scan(input, sink, out int consumed);
            total += consumed;
            if (ended)
            {
                return $"{Convert.ToHexString([.. sink.Bytes])} ended at {total}, bare LF {scanner.SawBareLf}";
            }
            pending = input[consumed..];
        }
        return $"{Convert.ToHexString([.. sink.Bytes])} open after {total}, bare LF {scanner.SawBareLf}";
    }

    [Property(MaxTest = 1000)]
    public bool Message_content_does_not_depend_on_how_the_bytes_arrive(byte[] raw, byte[] cuts, byte mode, bool bdat)
    {
        byte[] bytes = Text(raw, "a.\r\n.b");
        var bareNewlines = (BareNewlineMode)(mode % 3);
        return Content([bytes], bareNewlines, bdat) == Content(Pieces(bytes, cuts), bareNewlines, bdat);
    }
}
