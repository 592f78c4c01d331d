using System.Text;

namespace Edge.Delivery.Pipe;

/// <summary>
/// What a command writes to standard output and standard error, kept up to a limit for the delivery reason
/// and drained beyond it so that the command never blocks on a full pipe.
/// </summary>
internal sealed class CommandOutput(int limit)
{
    private readonly StringBuilder _text = new();

    /// <summary>". Command output: …" with the output on one line, or nothing when the command said nothing.</summary>
    public string Suffix
    {
        get
        {
            lock (_text)
            {
                string text = string.Join(' ', _text.ToString().Split((char[])[' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
                return text.Length == 0 ? "" : ". Command output: " + text;
            }
        }
    }

    public async Task DrainAsync(Stream stream)
    {
        byte[] buffer = new byte[4096];
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            lock (_text)
            {
                int room = limit - _text.Length;
                if (room > 0)
                {
                    foreach (char c in Encoding.UTF8.GetString(buffer, 0, Math.Min(read, room)))
                    {
                        _text.Append(char.IsControl(c) && c is not ('\n' or '\t') ? ' ' : c);
                    }
                }
            }
        }
    }
}
