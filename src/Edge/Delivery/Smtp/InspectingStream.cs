using Edge.Cleanup;
using Edge.Mail;
using Edge.Streams;

namespace Edge.Delivery.Smtp;

/// <summary>
/// smtp_header_checks, smtp_mime_header_checks, smtp_nested_header_checks and smtp_body_checks on the content as it
/// is sent, as Postfix's smtp(8) applies them, and smtp_generic_maps on the address headers: the lines the checks
/// leave, change or add go on to <paramref name="output"/>, one stored chunk at a time.
/// </summary>
internal sealed class InspectingStream : WriteOnlyStream
{
    private readonly Stream _output;
    private readonly ContentInspector _inspector;
    private readonly ContentBuffer _pending = new();

    public InspectingStream(Stream output, ContentChecks checks, HeaderRules rules, QueueId id, IHeaderRewriter? rewriter = null)
    {
        _output = output;
        _inspector = new ContentInspector(checks, rules);
        _inspector.Begin(_pending, id, origin: null, rewriter);
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _inspector.Write(buffer.Span);
        await FlushPendingAsync(cancellationToken);
    }

    /// <summary>The end of the content: a last line without its line end, and a header still being assembled.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        _inspector.Complete();
        await FlushPendingAsync(cancellationToken);
    }

    private async ValueTask FlushPendingAsync(CancellationToken cancellationToken)
    {
        if (_pending.Buffer.WrittenCount > 0)
        {
            await _output.WriteAsync(_pending.Buffer.WrittenMemory, cancellationToken);
            _pending.Buffer.ResetWrittenCount();
        }
    }

    protected override void Dispose(bool disposing)
    {
        _inspector.Release();
        base.Dispose(disposing);
    }
}
