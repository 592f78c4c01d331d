using System.Text;

namespace Edge.Milter;

/// <summary>How a filter changes a header at the end of the message (SMFIR_ADDHEADER, _INSHEADER, _CHGHEADER).</summary>
internal enum HeaderEditKind : byte
{
    /// <summary>After the last header.</summary>
    Add,
    /// <summary>At a position among all headers, Edge's own Received: header included (1 is the top).</summary>
    Insert,
    /// <summary>The Index-th header of that name, Edge's own Received: header not counted; an empty value deletes it.</summary>
    Change,
}

/// <summary>One header modification; <see cref="Value"/> is what follows the colon, already with its leading space.</summary>
internal readonly record struct HeaderEdit(HeaderEditKind Kind, int Index, string Name, string Value);

/// <summary>
/// What the filters asked to change at the end of a message, in the order they asked: headers, recipients, the
/// sender and the body, and whether the message goes to the hold queue (quarantine).
/// </summary>
internal sealed class MilterEdits
{
    public List<HeaderEdit> Headers { get; } = [];
    public List<string> AddedRecipients { get; } = [];
    public List<string> DeletedRecipients { get; } = [];
    public string? Sender { get; set; }

    /// <summary>The new body with CRLF line ends, when a filter replaced it.</summary>
    public MemoryStream? Body { get; private set; }

    public bool ChangesContent => Headers.Count > 0 || Body is not null;

    public bool ChangesEnvelope => AddedRecipients.Count > 0 || DeletedRecipients.Count > 0 || Sender is not null;

    /// <summary>
    /// A piece of a replacement body as the filter sends it; lines end in CRLF whatever the filter used, as Postfix
    /// splits the replacement into lines and writes each with CRLF.
    /// </summary>
    public void AppendBody(ReadOnlySpan<byte> piece)
    {
        Body ??= new MemoryStream();
        foreach (byte b in piece)
        {
            if (b == '\n' && (Body.Length == 0 || Body.GetBuffer()[Body.Length - 1] != '\r'))
            {
                Body.WriteByte((byte)'\r');
            }
            Body.WriteByte(b);
        }
    }

    /// <summary>The header as it is written: "Name:" and the value, continuation lines with CRLF.</summary>
    public static byte[] HeaderBytes(string name, string value) =>
        Encoding.UTF8.GetBytes($"{name}:{value.Replace("\r\n", "\n").Replace("\n", "\r\n")}\r\n");
}
