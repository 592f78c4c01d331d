namespace Edge.Smtp.Protocol;

/// <summary>
/// soft_bounce = yes in the SMTP server, as Postfix's smtpd_chat_reply() does it: every reply line that starts with
/// 5 is sent with 4 instead, and so is its enhanced status code ("550 5.1.1" goes as "450 4.1.1"), so that nothing
/// is refused for good while the safety net is on. It sits between the replies and the connection's writer and
/// changes the bytes as they are written, whatever pieces a reply is written in.
/// </summary>
internal sealed class SoftBounceWriter : ReplyWatcher
{
    private int _column;
    private bool _permanent;

    protected override void Watch(Span<byte> written)
    {
        for (int i = 0; i < written.Length; i++)
        {
            if (_column == 0)
            {
                _permanent = written[i] == '5';
            }
            if (_permanent && (_column == 0 || _column == 4) && written[i] == '5')
            {
                written[i] = (byte)'4';
            }
            _column = written[i] == '\n' ? 0 : _column + 1;
        }
    }
}
