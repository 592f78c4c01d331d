namespace Edge.Mail;

internal enum MessagePartKind : byte
{
    /// <summary>One logical header with its continuation lines, CRLFs included.</summary>
    Header,
    /// <summary>The line that ended the headers: the empty line, or a first body line that is not a header (empty when the message ended in its headers).</summary>
    EndOfHeaders,
    /// <summary>Body bytes after that line, as they come.</summary>
    Body,
}

internal readonly record struct MessagePart(MessagePartKind Kind, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// A stored message, read back in pieces of any size, as headers, the end of the headers and the body: how the mail
/// filters are shown a message and how their changes are written into it. Only the header being assembled is held;
/// the body passes as it is read. A last line without its line end is taken as if it had one.
/// </summary>
internal static class MessageParts
{
    public static async IAsyncEnumerable<MessagePart> SplitAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> content)
    {
        var line = new List<byte>();
        var block = new HeaderBlock();
        await foreach (ReadOnlyMemory<byte> piece in content)
        {
            ReadOnlyMemory<byte> rest = piece;
            while (block.Open && !rest.IsEmpty)
            {
                int lf = rest.Span.IndexOf((byte)'\n');
                if (lf < 0)
                {
                    line.AddRange(rest.Span);
                    break;
                }
                line.AddRange(rest.Span[..(lf + 1)]);
                rest = rest[(lf + 1)..];
                foreach (MessagePart part in block.Line(line))
                {
                    yield return part;
                }
            }
            if (!block.Open && !rest.IsEmpty)
            {
                yield return new MessagePart(MessagePartKind.Body, rest);
            }
        }
        if (block.Open && line.Count > 0)
        {
            line.AddRange("\r\n"u8);
            foreach (MessagePart part in block.Line(line))
            {
                yield return part;
            }
        }
        if (block.Open)
        {
            foreach (MessagePart part in block.End())
            {
                yield return part;
            }
        }
    }

    /// <summary>The header block being read: the header being assembled, and whether the block is still open.</summary>
    private sealed class HeaderBlock
    {
        private byte[]? _header;

        public bool Open { get; private set; } = true;

        /// <summary>One whole line of the block (taken from <paramref name="line"/>): the parts it completes.</summary>
        public List<MessagePart> Line(List<byte> line)
        {
            byte[] text = [.. line];
            line.Clear();
            var parts = new List<MessagePart>(2);
            if (text[0] is (byte)' ' or (byte)'\t' && _header is not null)
            {
                _header = [.. _header, .. text];
                return parts;
            }
            if (_header is not null)
            {
                parts.Add(new MessagePart(MessagePartKind.Header, _header));
                _header = null;
            }
            if (HeaderSyntax.IsHeader(text))
            {
                _header = text;
                return parts;
            }
            Open = false;
            parts.Add(new MessagePart(MessagePartKind.EndOfHeaders, text));
            return parts;
        }

        /// <summary>The message ended in its headers.</summary>
        public List<MessagePart> End()
        {
            var parts = new List<MessagePart>(2);
            if (_header is not null)
            {
                parts.Add(new MessagePart(MessagePartKind.Header, _header));
            }
            parts.Add(new MessagePart(MessagePartKind.EndOfHeaders, ReadOnlyMemory<byte>.Empty));
            Open = false;
            return parts;
        }
    }
}
