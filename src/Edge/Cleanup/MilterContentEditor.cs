using System.Text;
using Edge.Mail;
using Edge.Milter;

namespace Edge.Cleanup;

/// <summary>
/// Writes a message again with the header and body changes a mail filter asked for, as Postfix's cleanup edits the
/// queue file: headers are added after the last one, inserted at a position counted over all headers (Edge's own
/// Received: header included), and changed or deleted by their position among the headers of that name (Edge's own
/// Received: header not counted; changing one that does not exist adds it); a new body replaces everything after the
/// headers. Only the headers are held in memory; the body is copied as it is read.
/// </summary>
internal static class MilterContentEditor
{
    public static async Task RewriteAsync(IAsyncEnumerable<ReadOnlyMemory<byte>> content, MilterEdits edits, bool ownReceived,
        IContentSink output)
    {
        var headers = new List<byte[]>();
        await foreach (MessagePart part in MessageParts.SplitAsync(content))
        {
            switch (part.Kind)
            {
                case MessagePartKind.Header:
                    headers.Add(part.Bytes.ToArray());
                    break;
                case MessagePartKind.EndOfHeaders:
                    Edit(headers, edits, ownReceived);
                    WriteHeaders(headers, output);
                    if (edits.Body is { } body)
                    {
                        output.Write("\r\n"u8);
                        output.Write(body.GetBuffer().AsSpan(0, (int)body.Length));
                        return;
                    }
                    output.Write(part.Bytes.Span);
                    break;
                default:
                    output.Write(part.Bytes.Span);
                    break;
            }
        }
    }

    private static void WriteHeaders(List<byte[]> headers, IContentSink output)
    {
        foreach (byte[] header in headers)
        {
            output.Write(header);
        }
    }

    private static void Edit(List<byte[]> headers, MilterEdits edits, bool ownReceived)
    {
        foreach (HeaderEdit edit in edits.Headers)
        {
            byte[] bytes = MilterEdits.HeaderBytes(edit.Name, edit.Value);
            switch (edit.Kind)
            {
                case HeaderEditKind.Add:
                    headers.Add(bytes);
                    break;
                case HeaderEditKind.Insert:
                    headers.Insert(Math.Clamp(edit.Index - 1, 0, headers.Count), bytes);
                    break;
                case HeaderEditKind.Change:
                    int position = Find(headers, edit.Name, edit.Index, ownReceived ? 1 : 0);
                    if (position < 0)
                    {
                        if (edit.Value.Length > 0)
                        {
                            headers.Add(bytes);
                        }
                    }
                    else if (edit.Value.Length == 0)
                    {
                        headers.RemoveAt(position);
                    }
                    else
                    {
                        headers[position] = bytes;
                    }
                    break;
            }
        }
    }

    /// <summary>Where the <paramref name="index"/>-th header named <paramref name="name"/> is, the first <paramref name="skip"/> headers not counted; -1 when there is none.</summary>
    private static int Find(List<byte[]> headers, string name, int index, int skip)
    {
        byte[] wanted = Encoding.UTF8.GetBytes(name);
        for (int i = skip; i < headers.Count; i++)
        {
            ReadOnlySpan<byte> header = headers[i];
            int colon = header.IndexOf((byte)':');
            if (colon > 0 && Ascii.EqualsIgnoreCase(header[..colon].TrimEnd((byte)' '), wanted) && --index == 0)
            {
                return i;
            }
        }
        return -1;
    }
}
