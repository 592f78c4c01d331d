using System.Text;
using Edge.Smtp.Protocol;

namespace Edge.Tests.Smtp;

public class VerbParserTests
{
    [Theory]
    [InlineData("EHLO client.example", "Ehlo", "client.example")]
    [InlineData("ehlo   client.example", "Ehlo", "client.example")]
    [InlineData("MaIl FROM:<a@b>", "Mail", "FROM:<a@b>")]
    [InlineData("RCPT TO:<a@b>", "Rcpt", "TO:<a@b>")]
    [InlineData("DATA", "Data", "")]
    [InlineData("BDAT 10 LAST", "Bdat", "10 LAST")]
    [InlineData("STARTTLS", "StartTls", "")]
    [InlineData("starttls", "StartTls", "")]
    [InlineData("QUIT", "Quit", "")]
    [InlineData("DATAX", "Unknown", "")]
    [InlineData("STARTTL", "Unknown", "")]
    [InlineData("XYZZY", "Unknown", "")]
    [InlineData("GET / HTTP/1.1", "Forbidden", "")]
    [InlineData("POST /x HTTP/1.1", "Forbidden", "")]
    [InlineData("CONNECT host:443 HTTP/1.1", "Forbidden", "")]
    [InlineData("Subject: hello", "Forbidden", "")]
    [InlineData("From: a@b", "Forbidden", "")]
    [InlineData("\u0016\u0003\u0001", "Forbidden", "")]
    [InlineData("123 go", "Forbidden", "")]
    public void Verbs(string line, string verbName, string argument)
    {
        SmtpVerb verb = Enum.Parse<SmtpVerb>(verbName);
        byte[] bytes = Encoding.Latin1.GetBytes(line);
        Assert.Equal(verb, VerbParser.Parse(bytes, out int start));
        if (verb is not (SmtpVerb.Unknown or SmtpVerb.Forbidden))
        {
            Assert.Equal(argument, Encoding.Latin1.GetString(bytes[start..]));
        }
    }
}
