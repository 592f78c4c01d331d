using System.Buffers;
using Edge.Streams;

namespace Edge.Delivery.Smtp;

/// <summary>
/// The message content on its way to the server: lines that start with "." get a second one (RFC 5321
/// 4.5.2), bytes gather in one pooled buffer that is written whenever it fills, each write within
/// smtp_data_xfer_timeout, and <see cref="CompleteAsync"/> ends the content with CRLF "." CRLF. The whole
/// message is never held.
/// </summary>
internal sealed class DotStuffingStream(Stream transport, StageDeadline deadline, TimeSpan writeTimeout) : WriteOnlyStream
{
    private const int BufferSize = 32 * 1024;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _count;
    private bool _atLineStart = true;

    /// <summary>Whether a write to the server failed (as opposed to the content source).</summary>
    public bool TransportFailed { get; private set; }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!buffer.IsEmpty)
        {
            buffer = buffer[Stuff(buffer.Span)..];
            if (!buffer.IsEmpty)
            {
                await SendAsync(cancellationToken);
            }
        }
    }

    /// <summary>Ends the content (adding the CRLF a last line lacks) with "." and writes what is left.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_buffer.Length - _count < 5)
        {
            await SendAsync(cancellationToken);
        }
        ReadOnlySpan<byte> end = _atLineStart ? ".\r\n"u8 : "\r\n.\r\n"u8;
        end.CopyTo(_buffer.AsSpan(_count));
        _count += end.Length;
        await SendAsync(cancellationToken);
    }

    /// <summary>Copies as much of <paramref name="input"/> as the buffer takes, stuffing dots; returns how much.</summary>
    private int Stuff(ReadOnlySpan<byte> input)
    {
        int consumed = 0;
        while (consumed < input.Length)
        {
            Span<byte> free = _buffer.AsSpan(_count);
            if (_atLineStart && input[consumed] == (byte)'.')
            {
                // The extra dot and the line's own must land in the same buffer, or the state would have to
                // remember a half-stuffed line.
                if (free.Length < 2)
                {
                    break;
                }
                free[0] = (byte)'.';
                _count++;
                free = free[1..];
            }
            if (free.IsEmpty)
            {
                break;
            }
            ReadOnlySpan<byte> rest = input[consumed..];
            int lf = rest.IndexOf((byte)'\n');
            int line = lf < 0 ? rest.Length : lf + 1;
            int take = Math.Min(line, free.Length);
            rest[..take].CopyTo(free);
            _count += take;
            consumed += take;
            _atLineStart = take == line && lf >= 0;
        }
        return consumed;
    }

    private async ValueTask SendAsync(CancellationToken cancellationToken)
    {
        deadline.Start(writeTimeout);
        try
        {
            await transport.WriteAsync(_buffer.AsMemory(0, _count), cancellationToken);
        }
        catch
        {
            TransportFailed = true;
            throw;
        }
        _count = 0;
    }

    protected override void Dispose(bool disposing)
    {
        byte[] buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        base.Dispose(disposing);
    }
}
