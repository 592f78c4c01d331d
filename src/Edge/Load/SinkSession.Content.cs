using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Text;
using Edge.Restrictions.Policy;
using Edge.Smtp.Protocol;

namespace Edge.Load;

internal sealed partial class SinkSession
{
    /// <summary>--keep: the message's file while it arrives (renamed to its final name when accepted, deleted otherwise).</summary>
    private FileStream? _kept;
    private string? _keptPath;
    private string? _mailArguments;
    private List<string>? _recipientArguments;
    /// <summary>The content, when endOfData() is to see it.</summary>
    private MemoryStream? _held;
    private bool _heldFull;

    /// <summary>The content starts: --disconnect decides whether this message is dropped, --keep opens its file.</summary>
    private void BeginContent()
    {
        _contentBytes = 0;
        _drop = _options.Disconnect > 0 && Random.Shared.NextDouble() < _options.Disconnect;
        _held = sink.PolicySeesMessage ? new MemoryStream() : null;
        _heldFull = false;
        if (_options.KeepDirectory is { } directory)
        {
            _keptPath = Path.Combine(directory, $".{sink.RunStamp}.{Environment.CurrentManagedThreadId}.{Stopwatch.GetTimestamp()}.tmp");
            _kept = new FileStream(_keptPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024);
            var envelope = new StringBuilder();
            envelope.Append("X-Client-Addr: ").Append(_client?.Address.ToString() ?? "unknown").Append("\r\n");
            envelope.Append("X-Client-Proto: ").Append(_esmtp ? "ESMTP" : "SMTP").Append("\r\n");
            envelope.Append("X-Helo-Args: ").Append(_helo).Append("\r\n");
            envelope.Append("X-Mail-Args: ").Append(_mailArguments).Append("\r\n");
            foreach (string recipient in _recipientArguments ?? [])
            {
                envelope.Append("X-Rcpt-Args: ").Append(recipient).Append("\r\n");
            }
            _kept.Write(Encoding.UTF8.GetBytes(envelope.ToString()));
        }
    }

    /// <summary>The most of a message held for endOfData() without a message_size_limit.</summary>
    private const int HeldLimit = 64 * 1024 * 1024;

    /// <summary>Content as the DATA decoder or a BDAT chunk gives it.</summary>
    public void Write(ReadOnlySpan<byte> content)
    {
        _contentBytes += content.Length;
        _kept?.Write(content);
        // A message over message_size_limit is refused before endOfData() would see it, so holding stops at the limit
        // (for good: a later, smaller piece would leave a hole); without one, endOfData() sees the first 64 MiB.
        if (_held is not null && !_heldFull)
        {
            if (_held.Length + content.Length <= (sink.SizeLimit > 0 ? sink.SizeLimit : HeldLimit))
            {
                _held.Write(content);
            }
            else
            {
                _heldFull = true;
            }
        }
    }

    /// <summary>DATA content: decodes what arrived; the rest of <paramref name="buffer"/> after the end of the content once it came (answered), else null.</summary>
    private async ValueTask<ReadOnlySequence<byte>?> DataAsync(ReadOnlySequence<byte> buffer)
    {
        bool ended = ScanData(buffer, out long consumed);
        if (_drop)
        {
            await DropAsync();
            return buffer.Slice(buffer.End);
        }
        if (!ended)
        {
            return null;
        }
        _mode = Mode.Command;
        await EndOfContentAsync();
        return buffer.Slice(consumed);
    }

    private bool ScanData(in ReadOnlySequence<byte> buffer, out long consumed)
    {
        consumed = 0;
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            bool ended = _scanner.Scan(segment.Span, this, out int used);
            consumed += used;
            if (ended)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>--disconnect: the connection ends here, in the middle of the message, with no reply to it (those owed before it are sent).</summary>
    private async ValueTask DropAsync()
    {
        _dropped = true;
        _stats.DroppedConnection();
        await FlushAsync();
        connection.Abort();
    }

    /// <summary>BDAT: takes what arrived of the chunk; answers once the chunk is whole. Returns the rest of <paramref name="buffer"/>.</summary>
    private async ValueTask<ReadOnlySequence<byte>> ChunkAsync(ReadOnlySequence<byte> buffer)
    {
        long take = Math.Min(_chunkLeft, buffer.Length);
        if (_chunkRefusal is null && !_bdatFailed)
        {
            foreach (ReadOnlyMemory<byte> segment in buffer.Slice(0, take))
            {
                Write(segment.Span);
            }
            if (take > 0 && _drop)
            {
                await DropAsync();
                return buffer.Slice(buffer.End);
            }
        }
        _chunkLeft -= take;
        buffer = buffer.Slice(take);
        if (_chunkLeft > 0)
        {
            return buffer;
        }
        _mode = Mode.Command;
        if (_chunkRefusal is { } refusal)
        {
            Reply(refusal);
        }
        else if (sink.SizeLimit > 0 && _contentBytes > sink.SizeLimit)
        {
            _bdatFailed = true;
            Reply(Replies.ChunkTooBig);
            _stats.RefusedMessage();
            DiscardKept();
        }
        else if (_chunkLast)
        {
            await EndOfContentAsync();
            return buffer;
        }
        else
        {
            Span<byte> reply = stackalloc byte[64];
            Replies.BdatOkPrefix.CopyTo(reply);
            Utf8Formatter.TryFormat(_chunkSize, reply[Replies.BdatOkPrefix.Length..], out int digits);
            int end = Replies.BdatOkPrefix.Length + digits;
            Replies.BdatBytes.CopyTo(reply[end..]);
            Reply(reply[..(end + Replies.BdatBytes.Length)]);
            _stats.Record(SinkStats.Bdat, Stopwatch.GetElapsedTime(_chunkStarted));
        }
        if (_chunkLast && _bdat)
        {
            // A transaction that failed ends with its last chunk, as one that succeeded does.
            ResetTransaction();
        }
        return buffer;
    }

    /// <summary>The end of the content: the answer to the final dot or BDAT LAST, by the size limit, the policy's endOfData and --defer/--reject content.</summary>
    private async ValueTask EndOfContentAsync()
    {
        long started = Stopwatch.GetTimestamp();
        string? refusal;
        if (sink.SizeLimit > 0 && _contentBytes > sink.SizeLimit)
        {
            refusal = "552 5.3.4 Message size exceeds fixed limit";
            await DecideAsync(SinkStage.Content, "END-OF-MESSAGE", null, null, refusal);
        }
        else
        {
            refusal = await DecideAsync(SinkStage.Content, "END-OF-MESSAGE", null, null);
        }
        if (refusal is null)
        {
            long number = sink.NextMessageNumber();
            // As Edge answers: "Ok: queued as ID" after DATA, "Ok: N bytes queued as ID" after BDAT LAST.
            Span<byte> reply = stackalloc byte[96];
            int at;
            if (_bdat)
            {
                Replies.BdatOkPrefix.CopyTo(reply);
                Utf8Formatter.TryFormat(_contentBytes, reply[Replies.BdatOkPrefix.Length..], out int size);
                at = Replies.BdatOkPrefix.Length + size;
                Replies.BdatBytesQueuedAs.CopyTo(reply[at..]);
                at += Replies.BdatBytesQueuedAs.Length;
            }
            else
            {
                Replies.QueuedAs.CopyTo(reply);
                at = Replies.QueuedAs.Length;
            }
            Utf8Formatter.TryFormat(number, reply[at..], out int digits, new StandardFormat('X'));
            Reply(reply[..(at + digits)]);
            Keep(number);
            _stats.Accepted(_recipients, _contentBytes);
        }
        else
        {
            Reply(Encoding.UTF8.GetBytes(refusal));
            _stats.RefusedMessage();
        }
        _stats.Record(SinkStats.Content, Stopwatch.GetElapsedTime(started));
        ResetTransaction();
    }

    /// <summary>--keep: the accepted message's file gets its final name, numbered as its queue ID.</summary>
    private void Keep(long number)
    {
        if (_kept is null)
        {
            return;
        }
        _kept.Dispose();
        _kept = null;
        File.Move(_keptPath!, Path.Combine(_options.KeepDirectory!, $"{sink.RunStamp}.{number:X}.eml"));
        _keptPath = null;
    }

    /// <summary>The message is not kept: its file goes (whatever closing it says: a failed write is reported nowhere but here).</summary>
    private void DiscardKept()
    {
        _held = null;
        if (_kept is null)
        {
            return;
        }
        try
        {
            _kept.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Logging.MailLog.Warning($"edge sink: --keep: {_keptPath}: {e.Message}", "sink");
        }
        finally
        {
            _kept = null;
            File.Delete(_keptPath!);
            _keptPath = null;
        }
    }

    /// <summary>What endOfData() sees: the message held as it arrived, with the accepted recipients.</summary>
    private MessageView? HeldMessage() =>
        _held is null ? null : MessageView.Parse(_held.ToArray(), _recipientList ?? [], sink.PolicyBodyLimit);
}
