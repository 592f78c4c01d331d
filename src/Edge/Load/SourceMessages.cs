using System.Buffers;
using System.Globalization;
using System.Text.Unicode;

namespace Edge.Load;

/// <summary>
/// The content <c>edge source</c> sends: generated messages of the size asked (a few headers, then lines of text), or
/// the sample messages of a directory in turn, with CRLF line ends; as DATA sends them (dot-stuffed) or as BDAT does.
/// </summary>
internal sealed class SourceMessages
{
    private readonly (byte[] Data, byte[] Raw)[]? _samples;
    private readonly byte[] _body;
    private readonly SourceOptions _options;

    public SourceMessages(SourceOptions options)
    {
        _options = options;
        if (options.SampleDirectory is { } directory)
        {
            string[] files = Directory.Exists(directory) ? [.. Directory.GetFiles(directory).Order(StringComparer.Ordinal)] : [];
            if (files.Length == 0)
            {
                throw new IOException($"{directory}: no sample messages there");
            }
            _samples = [.. files.Select(file => Forms(Crlf(File.ReadAllBytes(file))))];
        }
        _body = Body(options.Size);
    }

    /// <summary>
    /// Message <paramref name="number"/> as DATA sends it before its final dot (<paramref name="data"/>) or as BDAT sends
    /// it: its generated headers are written to <paramref name="headers"/>, and the rest (the body; a sample message whole)
    /// is returned, to be sent after them from where it is; with the size of the message itself (without dot-stuffing).
    /// </summary>
    public (ReadOnlyMemory<byte> Remainder, int Size) Write(long number, string to, IBufferWriter<byte> headers, bool data)
    {
        if (_samples is not null)
        {
            (byte[] stuffed, byte[] raw) = _samples[number % _samples.Length];
            return (data ? stuffed : raw, raw.Length);
        }
        // Generated lines never start with a dot: DATA and BDAT send the same bytes.
        Span<byte> span = headers.GetSpan(512 + 2 * (_options.From.Length + to.Length + _options.Helo.Length));
        Utf8.TryWrite(span, CultureInfo.InvariantCulture,
            $"From: <{_options.From}>\r\nTo: <{to}>\r\nSubject: edge source message {number}\r\nMessage-Id: <{number}.{Environment.ProcessId}@{_options.Helo}>\r\n\r\n",
            out int length);
        headers.Advance(length);
        return (_body, length + _body.Length);
    }

    /// <summary>Lines of 78 letters (and a shorter last one) making the message about <paramref name="size"/> bytes with its headers.</summary>
    private static byte[] Body(int size)
    {
        int length = Math.Max(0, size - 160);
        var body = new byte[length];
        for (int i = 0; i < length; i++)
        {
            body[i] = i % 80 == 78 ? (byte)'\r' : i % 80 == 79 ? (byte)'\n' : (byte)('a' + i % 26);
        }
        if (length >= 2)
        {
            body[^2] = (byte)'\r';
            body[^1] = (byte)'\n';
        }
        return body;
    }

    private static byte[] Crlf(byte[] bytes)
    {
        var output = new List<byte>(bytes.Length + bytes.Length / 40);
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == '\n' && (i == 0 || bytes[i - 1] != '\r'))
            {
                output.Add((byte)'\r');
            }
            output.Add(bytes[i]);
        }
        if (output.Count > 0 && output[^1] != '\n')
        {
            output.AddRange("\r\n"u8.ToArray());
        }
        return [.. output];
    }

    /// <summary>The DATA form (a line starting with "." gets another) and the raw one.</summary>
    private static (byte[] Data, byte[] Raw) Forms(byte[] raw)
    {
        var data = new List<byte>(raw.Length + 16);
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] == '.' && (i == 0 || raw[i - 1] == '\n'))
            {
                data.Add((byte)'.');
            }
            data.Add(raw[i]);
        }
        return ([.. data], raw);
    }
}
