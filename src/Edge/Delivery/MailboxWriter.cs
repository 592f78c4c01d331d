namespace Edge.Delivery;

/// <summary>
/// Copies a stored message into a mailbox file as Postfix's local and virtual agents store mail: CRLF line
/// ends become LF, and for mbox a line that starts with "From " becomes ">From " so that it cannot be taken
/// for the next message's separator; for pipe(8)'s "." flag a line that starts with "." gets another one.
/// Write-only; it leaves the file open for the caller's trailer and fsync.
/// </summary>
internal sealed class MailboxWriter(Stream file, bool quoteFrom, bool stuffDots = false) : Stream
{
    private static readonly byte[] From = "From "u8.ToArray();

    private readonly MemoryStream _pending = new();
    private bool _carriageReturn;
    private int _matched;
    private bool _atLineStart = true;
    private int _last = -1;

    /// <summary>Whether what was written ends a line, or nothing was written: mbox needs a whole last line.</summary>
    public bool EndsWithNewline => _last is -1 or '\n';

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Convert(buffer);
        DrainTo(file);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Convert(buffer.Span);
        await file.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), cancellationToken);
        _pending.SetLength(0);
    }

    /// <summary>Writes what a chunk boundary held back: a lone CR, or the start of a line that began like "From ".</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (_carriageReturn)
        {
            _carriageReturn = false;
            Content((byte)'\r');
        }
        Emit(From.AsSpan(0, _matched));
        _matched = 0;
        await file.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), cancellationToken);
        _pending.SetLength(0);
    }

    public override void Flush() => file.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => file.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private void DrainTo(Stream output)
    {
        output.Write(_pending.GetBuffer().AsSpan(0, (int)_pending.Length));
        _pending.SetLength(0);
    }

    private void Convert(ReadOnlySpan<byte> input)
    {
        foreach (byte b in input)
        {
            if (_carriageReturn)
            {
                _carriageReturn = false;
                if (b == '\n')
                {
                    Content(b);
                    continue;
                }
                Content((byte)'\r');
            }
            if (b == '\r')
            {
                _carriageReturn = true;
                continue;
            }
            Content(b);
        }
    }

    /// <summary>One byte of the LF-ended text, through the "From " quoting at the start of each line.</summary>
    private void Content(byte b)
    {
        bool lineStart = _atLineStart && _matched == 0;
        if (quoteFrom && _atLineStart)
        {
            if (b == From[_matched])
            {
                if (++_matched < From.Length)
                {
                    return;
                }
                _pending.WriteByte((byte)'>');
                Emit(From);
                _matched = 0;
                _atLineStart = false;
                return;
            }
            Emit(From.AsSpan(0, _matched));
            _matched = 0;
        }
        if (stuffDots && lineStart && b == '.')
        {
            Emit("."u8);
        }
        _atLineStart = b == '\n';
        Emit([b]);
    }

    private void Emit(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 0)
        {
            _pending.Write(bytes);
            _last = bytes[^1];
        }
    }
}
