namespace Edge.Streams;

/// <summary>
/// The Stream boilerplate of a stream that content is only written to, asynchronously (the queue's content
/// on its way somewhere: into a bounce, to a server, into a new queued message). Subclasses implement
/// <see cref="WriteAsync(ReadOnlyMemory{byte}, CancellationToken)"/>.
/// </summary>
internal abstract class WriteOnlyStream : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public abstract override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Content is copied asynchronously only, so that writers can honour their time limits.</summary>
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("write the content asynchronously");

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
