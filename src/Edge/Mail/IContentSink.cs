namespace Edge.Mail;

/// <summary>Receives message content as it is decoded from DATA or BDAT, with CRLF line endings.</summary>
internal interface IContentSink
{
    void Write(ReadOnlySpan<byte> content);
}
