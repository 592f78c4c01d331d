using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Edge.Mail;

namespace Edge.Milter;

/// <summary>
/// The message event (Postfix's milter8_message): the headers one by one, the end of the headers, the body in
/// chunks of at most 64 KiB, and the end of the body, whose reply may come with modification requests. As Postfix,
/// Edge's own Received: header and the empty line after the headers are not shown to the filter.
/// </summary>
internal sealed partial class MilterClient
{
    private readonly byte[] _chunk = new byte[MilterProtocol.ChunkSize];
    private int _chunkLength;

    /// <summary>The next header is Edge's own Received: header, which the filter does not see.</summary>
    private bool _skipHeader;

    /// <param name="content">The message as it is queued, in pieces of any size.</param>
    /// <param name="skipFirstHeader">The first header is the Received: header Edge wrote.</param>
    public async Task<string?> MessageAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> content, bool skipFirstHeader,
        IReadOnlyDictionary<string, string> macros, MilterEdits edits, CancellationToken cancellationToken)
    {
        if (_state != State.Envelope)
        {
            return _defaultReply;
        }
        _state = State.Message;
        _timeout = definition.ContentTimeout;
        try
        {
            string? reply = await SendContentAsync(content, skipFirstHeader, macros, cancellationToken);
            if (!Done(reply))
            {
                reply = await FlushBodyAsync(macros, cancellationToken);
            }
            if (!Done(reply))
            {
                _packet.Clear();
                reply = await EventAsync(MilterProtocol.EndOfBody, 0, skipReply: false, MilterProtocol.StageEndOfMessage, macros,
                    cancellationToken, edits);
            }
            return reply;
        }
        finally
        {
            _timeout = definition.CommandTimeout;
            _chunkLength = 0;
            if (_state is State.Message or State.AcceptMessage)
            {
                _state = State.Envelope;
            }
        }
    }

    /// <summary>The filter said something final, or stopped wanting this message.</summary>
    private bool Done(string? reply) => reply is not null || _state != State.Message;

    private async Task<string?> SendContentAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> content, bool skipFirstHeader,
        IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken)
    {
        _skipHeader = skipFirstHeader;
        await foreach (MessagePart part in MessageParts.SplitAsync(content).WithCancellation(cancellationToken))
        {
            string? reply = part.Kind switch
            {
                MessagePartKind.Header => await HeaderAsync(part.Bytes, macros, cancellationToken),
                MessagePartKind.EndOfHeaders => await EndOfHeadersAsync(macros, cancellationToken),
                _ => await BodyAsync(part.Bytes, macros, cancellationToken),
            };
            // The empty line after the headers is not body; a body line that ended the headers is.
            if (!Done(reply) && part.Kind == MessagePartKind.EndOfHeaders && !part.Bytes.Span.TrimEnd("\r\n"u8).IsEmpty)
            {
                reply = await BodyAsync(part.Bytes, macros, cancellationToken);
            }
            if (Done(reply))
            {
                return reply ?? _defaultReply;
            }
        }
        return null;
    }

    /// <summary>Sends one header: its name, and its value with continuation lines joined by newlines.</summary>
    private async Task<string?> HeaderAsync(ReadOnlyMemory<byte> bytes, IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken)
    {
        string header = Encoding.UTF8.GetString(bytes.Span).Replace("\r\n", "\n").TrimEnd('\n');
        bool skip = _skipHeader;
        _skipHeader = false;
        if (skip || (_events & MilterProtocol.NoHeaders) != 0)
        {
            return null;
        }
        int colon = header.IndexOf(':');
        string name = header[..colon].TrimEnd(' ', '\t');
        string value = header[(colon + 1)..];
        // Sendmail eats one space after the colon, unless the filter asked for the leading space.
        if ((_events & MilterProtocol.HeaderLeadingSpace) == 0 && value.StartsWith(' '))
        {
            value = value[1..];
        }
        _packet.Clear();
        Cstring(name);
        Cstring(value);
        return await EventAsync(MilterProtocol.Header, MilterProtocol.NoHeaders, (_events & MilterProtocol.NoReplyHeader) != 0,
            MilterProtocol.StageEndOfHeaders, macros, cancellationToken);
    }

    private Task<string?> EndOfHeadersAsync(IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken)
    {
        if ((_events & MilterProtocol.NoEndOfHeaders) != 0)
        {
            return Task.FromResult<string?>(null);
        }
        _packet.Clear();
        return EventAsync(MilterProtocol.EndOfHeaders, MilterProtocol.NoEndOfHeaders, (_events & MilterProtocol.NoReplyEndOfHeaders) != 0,
            MilterProtocol.StageEndOfHeaders, macros, cancellationToken);
    }

    /// <summary>Body bytes into the chunk buffer; each full chunk is sent.</summary>
    private async Task<string?> BodyAsync(ReadOnlyMemory<byte> body, IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken)
    {
        if ((_events & MilterProtocol.NoBody) != 0)
        {
            return null;
        }
        while (!body.IsEmpty)
        {
            int take = Math.Min(body.Length, _chunk.Length - _chunkLength);
            body.Span[..take].CopyTo(_chunk.AsSpan(_chunkLength));
            _chunkLength += take;
            body = body[take..];
            if (_chunkLength == _chunk.Length && await FlushBodyAsync(macros, cancellationToken) is { } reply)
            {
                return reply;
            }
            if (Done(null))
            {
                return _defaultReply;
            }
        }
        return null;
    }

    private async Task<string?> FlushBodyAsync(IReadOnlyDictionary<string, string> macros, CancellationToken cancellationToken)
    {
        if (_chunkLength == 0)
        {
            return null;
        }
        _packet.Clear();
        _packet.Write(_chunk.AsSpan(0, _chunkLength));
        _chunkLength = 0;
        return await EventAsync(MilterProtocol.Body, MilterProtocol.NoBody, (_events & MilterProtocol.NoReplyBody) != 0,
            MilterProtocol.StageEndOfMessage, macros, cancellationToken);
    }

    /// <summary>A modification request at the end of the body, recorded in <paramref name="edits"/>; false when it is not one.</summary>
    private bool Edit(byte request, ReadOnlySpan<byte> data, MilterEdits edits)
    {
        string space = (_events & MilterProtocol.HeaderLeadingSpace) != 0 ? "" : " ";
        switch (request)
        {
            case MilterProtocol.ChangeHeader or MilterProtocol.InsertHeader when data.Length >= 4:
                int index = (int)BinaryPrimitives.ReadUInt32BigEndian(data);
                string[] parts = Strings(data[4..], 2);
                if (parts[0].Length == 0 || index < 0)
                {
                    return false;
                }
                edits.Headers.Add(request == MilterProtocol.ChangeHeader
                    ? new HeaderEdit(HeaderEditKind.Change, Math.Max(1, index), parts[0], parts[1].Length == 0 ? "" : space + parts[1])
                    : new HeaderEdit(HeaderEditKind.Insert, index + 1, parts[0], space + parts[1]));
                return true;
            case MilterProtocol.AddHeader:
                string[] added = Strings(data, 2);
                edits.Headers.Add(new HeaderEdit(HeaderEditKind.Add, 0, added[0], space + added[1]));
                return added[0].Length > 0;
            case MilterProtocol.ChangeSender:
                edits.Sender = Strings(data, 1)[0];
                return true;
            case MilterProtocol.AddRecipient or MilterProtocol.AddRecipientWithArguments:
                edits.AddedRecipients.Add(Strings(data, 1)[0]);
                return true;
            case MilterProtocol.DeleteRecipient:
                edits.DeletedRecipients.Add(Strings(data, 1)[0]);
                return true;
            case MilterProtocol.ReplaceBody:
                edits.AppendBody(data);
                return true;
            default:
                return false;
        }
    }

    /// <summary>The first <paramref name="count"/> NUL-terminated strings of <paramref name="data"/> ("" for those missing).</summary>
    private static string[] Strings(ReadOnlySpan<byte> data, int count)
    {
        var result = new string[count];
        for (int i = 0; i < count; i++)
        {
            int end = data.IndexOf((byte)0);
            ReadOnlySpan<byte> text = end < 0 ? data : data[..end];
            result[i] = Encoding.UTF8.GetString(text);
            data = end < 0 ? default : data[(end + 1)..];
        }
        return result;
    }
}
