using BenchmarkDotNet.Attributes;
using Edge.Smtp.Protocol;

namespace Edge.Bench;

/// <summary>Per-command parsing: verb match and ESMTP parameters, straight from the line bytes.</summary>
[MemoryDiagnoser]
public class CommandParserBenchmarks
{
    private static readonly byte[] Ehlo = "EHLO client.example.org"u8.ToArray();
    private static readonly byte[] Mail = "MAIL FROM:<sender@example.org> SIZE=123456 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314159"u8.ToArray();
    private static readonly byte[] Rcpt = "RCPT TO:<recipient@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;recipient@example.net"u8.ToArray();

    [Benchmark]
    public int ParseEhlo()
    {
        SmtpVerb verb = VerbParser.Parse(Ehlo, out int start);
        return (int)verb + start;
    }

    [Benchmark]
    public long ParseMailFrom()
    {
        VerbParser.Parse(Mail, out int start);
        EnvelopeParser.ParseMail(Mail.AsSpan(start), strict: false, smtpUtf8Enabled: true, out MailArguments args);
        return args.Size;
    }

    [Benchmark]
    public int ParseRcptTo()
    {
        VerbParser.Parse(Rcpt, out int start);
        EnvelopeParser.ParseRcpt(Rcpt.AsSpan(start), strict: false, utf8Allowed: false, out RcptArguments args);
        return (int)args.Notify;
    }
}
