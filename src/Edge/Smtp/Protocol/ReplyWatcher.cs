using System.Buffers;

namespace Edge.Smtp.Protocol;

/// <summary>
/// A writer between the session's replies and the connection's writer that sees every byte of every reply as it is
/// advanced, whatever pieces a reply is written in, and may change it in place (soft_bounce) before it goes on.
/// </summary>
internal abstract class ReplyWatcher : IBufferWriter<byte>
{
    private IBufferWriter<byte> _inner = null!;
    private Memory<byte> _last;

    /// <summary>This writer in front of <paramref name="inner"/> (the connection's writer changes at STARTTLS).</summary>
    public IBufferWriter<byte> Over(IBufferWriter<byte> inner)
    {
        _inner = inner;
        return this;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => _last = _inner.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public void Advance(int count)
    {
        Watch(_last.Span[..count]);
        _inner.Advance(count);
    }

    /// <summary>The bytes just written, before they go on to the connection.</summary>
    protected abstract void Watch(Span<byte> written);
}
