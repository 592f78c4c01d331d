using System.Text;
using Edge.Cleanup;
using Edge.Logging;
using Edge.Restrictions;
using Edge.Smtp.Protocol;

namespace Edge.Smtp.Session;

/// <summary>
/// Header and body checks on the message being received: when the listener has any, the content streams through a
/// <see cref="ContentInspector"/> on its way to the queue; its verdict, with the HOLD, DISCARD, REDIRECT and BCC
/// actions the restrictions saved, is carried out at the end of the data.
/// </summary>
internal sealed partial class SmtpSession
{
    private ContentInspector? _inspector;
    private bool _inspecting;
    private SavedActions? _saved;

    /// <summary>Starts inspecting the message whose content begins now, if the listener has checks.</summary>
    private void BeginInspection()
    {
        ContentChecks? checks = _s.ContentChecks;
        _inspecting = checks is not null;
        if (checks is null)
        {
            return;
        }
        if (_inspector is null || !ReferenceEquals(_inspector.Checks, checks))
        {
            _inspector?.Release();
            _inspector = new ContentInspector(checks);
        }
        ReadOnlySpan<byte> last = _envelope.RecipientCount > 0 ? _envelope[_envelope.Recipients[^1].Address] : default;
        _inspector.Begin(_writer, new InspectionOrigin(_envelope.Id.ToString(), _peer.NamAddr,
            Printable.Text(_envelope[_envelope.Sender]), Printable.Text(last), Protocol, _helo));
    }

    /// <summary>Content the session writes itself (PREPEND headers, Received:): inspected like the client's, as Postfix's cleanup sees smtpd's.</summary>
    private void WriteContent(ReadOnlySpan<byte> content)
    {
        if (_inspecting)
        {
            _inspector!.Write(content);
        }
        else
        {
            _writer.Write(content);
        }
    }

    private bool Scan(ReadOnlySpan<byte> input, out int consumed) =>
        _inspecting ? _scanner.Scan(input, _inspector!, out consumed) : _scanner.Scan(input, _writer, out consumed);

    /// <summary>
    /// The end of the content: the inspection's verdict. Returns true when the reply is written and nothing is to be
    /// queued (REJECT, DISCARD, a FILTER Edge cannot route yet); otherwise the envelope carries REDIRECT and BCC, and
    /// <paramref name="hold"/> says whether the message goes on hold.
    /// </summary>
    private bool ApplyVerdict(bool bdat, out bool hold)
    {
        ContentVerdict? verdict = null;
        if (_inspecting)
        {
            _inspector!.Complete();
            verdict = _inspector.Verdict;
        }
        hold = (verdict?.Hold ?? false) || (_saved?.Hold ?? false);
        if (verdict?.Reply is { } reply)
        {
            Reply.Line(Encoding.UTF8.GetBytes(reply));
            return true;
        }
        if ((verdict?.Discard ?? false) || (_saved?.Discard ?? false))
        {
            // Postfix claims the delivery and throws the message away.
            WriteQueuedReply(bdat);
            return true;
        }
        if (verdict?.Filter is { } filter)
        {
            MailLog.Warning($"{_envelope.Id}: FILTER {filter}: content filters are not supported by Edge yet; the message is deferred", "cleanup");
            Reply.Line("451 4.3.5 Server configuration error: action FILTER not supported"u8);
            return true;
        }
        // The header checks come after the restrictions: their REDIRECT is the later one.
        if ((verdict?.Redirect ?? _saved?.Redirect) is { } redirect)
        {
            _envelope.ReplaceRecipients([(redirect, "", DsnNotify.Unspecified)]);
        }
        IEnumerable<string> savedBcc = _saved?.Bcc ?? [];
        foreach (string bcc in savedBcc.Concat(verdict?.Bcc ?? []))
        {
            _envelope.AddRecipient(Encoding.UTF8.GetBytes(bcc), default, DsnNotify.Never);
        }
        return false;
    }
}
