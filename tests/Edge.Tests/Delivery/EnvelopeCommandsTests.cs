using Edge.Delivery.Smtp;
using Edge.Mail;
using Edge.Queue;

namespace Edge.Tests.Delivery;

/// <summary>MAIL FROM and RCPT TO parameters, sent only when the server announced the extension.</summary>
public class EnvelopeCommandsTests
{
    private static readonly EhloFeatures All = new(true, true, 0, true, true, true, false);

    private static DeliveryRequest Request => Messages.Request("x\r\n", "a@example.org") with
    {
        Body = BodyType.EightBitMime,
        SmtpUtf8 = true,
        Ret = DsnReturn.Full,
        EnvId = "id+2B1",
    };

    [Fact]
    public void Mail_carries_every_announced_parameter()
    {
        Assert.Equal("MAIL FROM:<sender@example.org> SIZE=3 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=id+2B1", EnvelopeCommands.Mail(Request, All));
        Assert.Equal("MAIL FROM:<sender@example.org>", EnvelopeCommands.Mail(Request, EhloFeatures.None));
        Assert.Equal("MAIL FROM:<>", EnvelopeCommands.Mail(Request with { Sender = "" }, EhloFeatures.None));
    }

    [Fact]
    public void An_envid_that_is_not_xtext_is_encoded()
    {
        Assert.EndsWith(" ENVID=a+20b+2Bc+3D", EnvelopeCommands.Mail(Request with { EnvId = "a b+c=" }, All));
    }

    [Theory]
    [InlineData((int)DsnNotify.Never, "RCPT TO:<r@example.org> NOTIFY=NEVER ORCPT=rfc822;o@example.org")]
    [InlineData((int)(DsnNotify.Success | DsnNotify.Delay), "RCPT TO:<r@example.org> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;o@example.org")]
    [InlineData((int)DsnNotify.Unspecified, "RCPT TO:<r@example.org> ORCPT=rfc822;o@example.org")]
    public void Rcpt_carries_notify_and_orcpt(int notify, string command)
    {
        var recipient = new QueuedRecipient("r@example.org", "rfc822;o@example.org", (DsnNotify)notify);
        Assert.Equal(command, EnvelopeCommands.Rcpt(recipient, All));
        Assert.Equal("RCPT TO:<r@example.org>", EnvelopeCommands.Rcpt(recipient, EhloFeatures.None));
    }

    [Fact]
    public void Smtputf8_is_needed_only_for_a_non_ascii_envelope_that_asked_for_it()
    {
        Assert.False(EnvelopeCommands.NeedsSmtpUtf8(Request));
        Assert.True(EnvelopeCommands.NeedsSmtpUtf8(Request with { Sender = "s\u00e9@example.org" }));
        Assert.False(EnvelopeCommands.NeedsSmtpUtf8(Request with { Sender = "s\u00e9@example.org", SmtpUtf8 = false }));
    }
}
