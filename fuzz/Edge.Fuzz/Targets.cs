using System.Buffers;
using System.Text;
using Edge.Config;
using Edge.Dns;
using Edge.Mail;
using Edge.Queue;
using Edge.Smtp.Data;
using Edge.Smtp.Protocol;
using Edge.Smtp.Proxy;
using Edge.Tables;

namespace Edge.Fuzz;

/// <summary>
/// One harness per parser that reads outside input. Each takes any bytes and may only answer as its parser
/// documents (a status, an error reply, the parser's own exception for bad input); any other exception, or a
/// range or count that points outside the input, is a finding. fuzz/corpus/TARGET holds each one's seeds.
/// </summary>
public static class Targets
{
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new SortedDictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["smtp-command"] = SmtpCommands,
        ["proxy"] = Proxy,
        ["data"] = Data,
        ["dns-message"] = DnsMessages,
        ["main-cf"] = MainCf,
        ["master-cf"] = MasterCf,
        ["queue-record"] = QueueRecord,
        ["smtp-session"] = SessionTarget.Run,
        ["tables"] = Tables,
        ["milter"] = FilterTargets.Milter,
        ["policy"] = FilterTargets.Policy,
    };

    /// <summary>
    /// Command lines as the session frames them (a 2048-byte line limit, bare LF noticed), each verb parsed, and the
    /// MAIL FROM and RCPT TO arguments in every mode: strict or not, SMTPUTF8 or not; every range they give is taken.
    /// </summary>
    private static void SmtpCommands(byte[] input)
    {
        var buffer = new ReadOnlySequence<byte>(input);
        while (LineFramer.TryReadLine(ref buffer, 2048, out ReadOnlySequence<byte> framed, out _, out bool skipRest) != LineStatus.NeedMore)
        {
            if (skipRest)
            {
                LineFramer.SkipRestOfLine(ref buffer);
            }
            byte[] line = framed.ToArray();
            SmtpVerb verb = VerbParser.Parse(line, out int argumentStart);
            ReadOnlySpan<byte> argument = line.AsSpan(argumentStart);
            foreach (bool strict in (bool[])[false, true])
            {
                foreach (bool utf8 in (bool[])[false, true])
                {
                    if (verb == SmtpVerb.Mail)
                    {
                        EnvelopeError error = EnvelopeParser.ParseMail(argument, strict, utf8, out MailArguments mail);
                        Take(argument[mail.Address], argument[mail.EnvId], argument[mail.Auth], argument[mail.BadParameter], error);
                    }
                    else if (verb == SmtpVerb.Rcpt)
                    {
                        EnvelopeError error = EnvelopeParser.ParseRcpt(argument, strict, utf8, out RcptArguments rcpt);
                        Take(argument[rcpt.Address], argument[rcpt.Orcpt], [], argument[rcpt.BadParameter], error);
                    }
                }
            }
        }
    }

    /// <summary>What the session does with the parsed parts: xtext ones decoded when valid.</summary>
    private static void Take(ReadOnlySpan<byte> address, ReadOnlySpan<byte> xtext, ReadOnlySpan<byte> auth, ReadOnlySpan<byte> bad, EnvelopeError error)
    {
        _ = Encoding.UTF8.GetString(address);
        _ = Encoding.UTF8.GetString(bad);
        foreach (byte[] part in new[] { xtext.ToArray(), auth.ToArray() })
        {
            if (XText.IsValid(part))
            {
                _ = XText.Decode(part);
            }
        }
        _ = error;
    }

    /// <summary>A PROXY v1 or v2 header, whole and cut at every length: the parser must wait, take or refuse.</summary>
    private static void Proxy(byte[] input)
    {
        for (int length = 0; length <= input.Length; length = length < 64 ? length + 1 : length * 2)
        {
            var buffer = new ReadOnlySequence<byte>(input, 0, Math.Min(length, input.Length));
            ProxyParseStatus status = ProxyHeader.TryParse(buffer, out SequencePosition consumed, out _, out _, out string? error);
            _ = buffer.Slice(consumed).Length;
            if (status == ProxyParseStatus.Invalid && error is null)
            {
                throw new InvalidOperationException("an invalid PROXY header without a reason");
            }
        }
    }

    private sealed class CountingSink : IContentSink
    {
        public long Bytes;

        public void Write(ReadOnlySpan<byte> content) => Bytes += content.Length;
    }

    /// <summary>
    /// Message content through the DATA scanner (dot-stuffing, the end-of-data marker, each bare-newline mode) and the
    /// BDAT scanner, in pieces as they arrive; what it consumes never passes what it was given.
    /// </summary>
    private static void Data(byte[] input)
    {
        var scanner = new DataScanner();
        foreach (BareNewlineMode mode in Enum.GetValues<BareNewlineMode>())
        {
            foreach (bool bdat in (bool[])[false, true])
            {
                if (bdat)
                {
                    scanner.StartBdat(mode);
                }
                else
                {
                    scanner.StartData(mode);
                }
                var sink = new CountingSink();
                int offset = 0;
                // Pieces of 1, 2, 3 … bytes: every boundary the network could put in the content.
                for (int piece = 1; offset < input.Length; piece++)
                {
                    ReadOnlySpan<byte> chunk = input.AsSpan(offset, Math.Min(piece, input.Length - offset));
                    bool ended = scanner.Scan(chunk, sink, out int consumed);
                    if (consumed < 0 || consumed > chunk.Length || (!ended && consumed != chunk.Length))
                    {
                        throw new InvalidOperationException($"the scanner consumed {consumed} of {chunk.Length} bytes (ended: {ended})");
                    }
                    offset += consumed;
                    if (ended)
                    {
                        break;
                    }
                }
            }
        }
    }

    /// <summary>A DNS reply from anyone who can reach the resolver's port: parsed, or refused as malformed.</summary>
    private static void DnsMessages(byte[] input)
    {
        try
        {
            DnsMessage.Parse(input);
        }
        catch (DnsFormatException)
        {
            // Malformed: the resolver drops it.
        }
    }

    /// <summary>main.cf text: its entries, or an error naming the file and line.</summary>
    private static void MainCf(byte[] input)
    {
        try
        {
            MainCfParser.Parse(Encoding.UTF8.GetString(input), "main.cf");
        }
        catch (ConfigException)
        {
            // The administrator's error message.
        }
    }

    /// <summary>master.cf text: its services, or an error naming the file and line.</summary>
    private static void MasterCf(byte[] input)
    {
        try
        {
            MasterCfParser.Parse(Encoding.UTF8.GetString(input), "master.cf");
        }
        catch (ConfigException)
        {
            // The administrator's error message.
        }
    }

    private static readonly string CorruptDirectory = Path.Combine(Path.GetTempPath(), "edge-fuzz-corrupt-" + Environment.ProcessId);

    /// <summary>
    /// A queue log record as recovery reads it at start-up, with a valid checksum (as a record written by a faulty
    /// version would have): it is queued, or put in the corrupt queue; start-up must never fail because of it.
    /// </summary>
    private static void QueueRecord(byte[] input)
    {
        if (input.Length < RecordHeader.Size)
        {
            return;
        }
        byte[] record = (byte[])input.Clone();
        RecordHeader.Seal(record);
        var recovery = new QueueRecovery(new CorruptQueue(CorruptDirectory));
        recovery.Add(record, 0);
        recovery.Finish();
    }

    private static readonly string TableFile = Path.Combine(Path.GetTempPath(), $"edge-fuzz-table-{Environment.ProcessId}");

    private static readonly string[] TableKeys = ["192.0.2.1", "2001:db8::1", "user@example.com", "example.com", "user", "", "Subject: hello"];

    /// <summary>
    /// A lookup table's source as every type that reads one parses it (cidr:, regexp:, pcre:, texthash:, aliases(5) and
    /// inline:{…}): loaded, or refused with an error naming the file and line; a loaded table answers lookups.
    /// </summary>
    private static void Tables(byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        File.WriteAllText(TableFile, text);
        Func<ILookupTable?>[] loaders =
        [
            () => CidrTable.Load(TableFile),
            () => PatternTable.Load(TableFile, RegexpSyntax.Instance),
            () => PatternTable.Load(TableFile, PcreSyntax.Instance),
            () => TextHashTable.Load(TableFile),
            () => AliasFile.Load(TableFile),
            () => InlineTable.Parse(text, out _),
        ];
        foreach (Func<ILookupTable?> load in loaders)
        {
            ILookupTable? table;
            try
            {
                table = load();
            }
            catch (Exception e) when (e is TableException or ConfigException)
            {
                // The administrator's error message, naming the file and line.
                continue;
            }
            // inline:{…} says what is wrong through its error instead.
            if (table is null)
            {
                continue;
            }
            foreach (string key in TableKeys)
            {
                _ = table.Lookup(key);
            }
        }
    }
}
