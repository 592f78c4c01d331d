using System.Text;
using Edge.Mail;
using Edge.Smtp.Protocol;

namespace Edge.Tests.Smtp;

public class EnvelopeParserTests
{
    private static (EnvelopeError Error, MailArguments Args, string Text) Mail(string argument, bool strict = false)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(argument);
        EnvelopeError error = EnvelopeParser.ParseMail(bytes, strict, smtpUtf8Enabled: true, out MailArguments args);
        return (error, args, argument);
    }

    [Fact]
    public void Mail_with_every_parameter()
    {
        var (error, args, text) = Mail("FROM:<a@example.org> SIZE=1234 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc+2Bdef");
        Assert.Equal(EnvelopeError.None, error);
        Assert.Equal("a@example.org", text[args.Address]);
        Assert.Equal(1234, args.Size);
        Assert.Equal(BodyType.EightBitMime, args.Body);
        Assert.True(args.SmtpUtf8);
        Assert.Equal(DsnReturn.Headers, args.Ret);
        Assert.Equal("abc+2Bdef", text[args.EnvId]);
    }

    [Theory]
    [InlineData("FROM:<>", "")]
    [InlineData("from: <a@b.example>", "a@b.example")]
    [InlineData("FROM:<@relay.example,@r2.example:user@d.example>", "user@d.example")]
    [InlineData("FROM:user@d.example", "user@d.example")]
    [InlineData("FROM:<\"quoted local\"@d.example>", "\"quoted local\"@d.example")]
    [InlineData("FROM:<postmaster>", "postmaster")]
    public void Mail_addresses(string argument, string address)
    {
        var (error, args, text) = Mail(argument);
        Assert.Equal(EnvelopeError.None, error);
        Assert.Equal(address, text[args.Address]);
    }

    [Theory]
    [InlineData("", "MailSyntax")]
    [InlineData("TO:<a@b>", "MailSyntax")]
    [InlineData("FROM:", "MailSyntax")]
    [InlineData("FROM:<a@b", "BadSender")]
    [InlineData("FROM:<a b@c>", "BadSender")]
    [InlineData("FROM:<a@b>x", "BadSender")]
    [InlineData("FROM:<a@-bad domain>", "BadSender")]
    [InlineData("FROM:<a@b> SIZE=12x", "BadSize")]
    [InlineData("FROM:<a@b> SIZE=", "BadSize")]
    [InlineData("FROM:<a@b> SIZE=99999999999999999999999", "SizeOverflow")]
    [InlineData("FROM:<a@b> FOO=1", "Unsupported")]
    [InlineData("FROM:<a@b> BODY=BINARYMIME", "Unsupported")]
    [InlineData("FROM:<a@b> RET=ALL", "BadRet")]
    [InlineData("FROM:<a@b> RET=FULL RET=HDRS", "BadRet")]
    [InlineData("FROM:<a@b> ENVID=a=b", "BadEnvId")]
    [InlineData("FROM:<a@b> ENVID=x+4", "BadEnvId")]
    public void Mail_errors(string argument, string expected)
    {
        Assert.Equal(Enum.Parse<EnvelopeError>(expected), Mail(argument).Error);
    }

    [Fact]
    public void Strict_envelopes_require_angle_brackets()
    {
        Assert.Equal(EnvelopeError.BadSender, Mail("FROM:a@b.example", strict: true).Error);
        Assert.Equal(EnvelopeError.None, Mail("FROM: <a@b.example>", strict: true).Error);
    }

    [Fact]
    public void Unsupported_option_names_the_parameter()
    {
        var (error, args, text) = Mail("FROM:<a@b> FOO=1");
        Assert.Equal(EnvelopeError.Unsupported, error);
        Assert.Equal("FOO=1", text[args.BadParameter]);
    }

    [Theory]
    [InlineData("TO:<u@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;u+40d.example", "None")]
    [InlineData("TO:<u@d.example> NOTIFY=NEVER", "None")]
    [InlineData("TO:<u@d.example> NOTIFY=NEVER,DELAY", "BadNotify")]
    [InlineData("TO:<u@d.example> NOTIFY=SOMETIMES", "BadNotify")]
    [InlineData("TO:<u@d.example> ORCPT=u@d.example", "BadOrcpt")]
    [InlineData("TO:<>", "BadRecipient")]
    [InlineData("TO:<u@d", "BadRecipient")]
    [InlineData("FROM:<u@d>", "RcptSyntax")]
    [InlineData("TO:<u@d> BODY=7BIT", "Unsupported")]
    public void Rcpt_parameters(string argument, string expectedName)
    {
        EnvelopeError expected = Enum.Parse<EnvelopeError>(expectedName);
        EnvelopeError error = EnvelopeParser.ParseRcpt(Encoding.UTF8.GetBytes(argument), false, false, out RcptArguments args);
        Assert.Equal(expected, error);
        if (expected == EnvelopeError.None && argument.Contains("NOTIFY=SUCCESS"))
        {
            Assert.Equal(DsnNotify.Success | DsnNotify.Failure, args.Notify);
            Assert.Equal("rfc822;u+40d.example", argument[args.Orcpt]);
        }
    }

    [Fact]
    public void Every_prefix_of_a_mail_argument_parses_or_fails_without_exceptions()
    {
        const string argument = "FROM:<\"a b\"@d.example> SIZE=100 BODY=7BIT SMTPUTF8 RET=FULL ENVID=x";
        for (int i = 0; i <= argument.Length; i++)
        {
            _ = Mail(argument[..i]);
        }
    }
}
