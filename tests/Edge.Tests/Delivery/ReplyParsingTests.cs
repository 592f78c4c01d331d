using System.Text;
using Edge.Delivery.Smtp;

namespace Edge.Tests.Delivery;

/// <summary>Server replies: lines, codes, enhanced status codes, EHLO keywords.</summary>
public class ReplyParsingTests
{
    /// <summary>A stream that gives one byte per read, so that every line is split everywhere.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(1, buffer.Length)], cancellationToken);
    }

    private static async Task<List<SmtpReply>> ReadAllAsync(string wire, bool trickle = false)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(wire);
        using Stream stream = trickle ? new TrickleStream(bytes) : new MemoryStream(bytes);
        using var reader = new ReplyReader(stream);
        var replies = new List<SmtpReply>();
        try
        {
            while (true)
            {
                replies.Add(await reader.ReadAsync(CancellationToken.None));
            }
        }
        catch (EndOfStreamException)
        {
            return replies;
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Replies_are_read_whole_and_in_order(bool trickle)
    {
        var replies = await ReadAllAsync("220 mx ESMTP\r\n250-mx\r\n250-PIPELINING\r\n250 SIZE 1000\r\n550 5.1.1 no\n", trickle);

        Assert.Equal([220, 250, 550], replies.Select(r => r.Code));
        Assert.Equal(["250-mx", "250-PIPELINING", "250 SIZE 1000"], replies[1].Lines);
        Assert.Equal("250-mx 250-PIPELINING 250 SIZE 1000", replies[1].Text);
        Assert.Equal("550 5.1.1 no", replies[2].Text);
    }

    [Fact]
    public async Task A_line_without_a_code_ends_the_reply_as_code_zero()
    {
        SmtpReply reply = Assert.Single(await ReadAllAsync("hello there\r\n"));
        Assert.Equal(0, reply.Code);
        Assert.Equal(RecipientStatus.Deferred, reply.Status);
        Assert.Equal("4.0.0", reply.Dsn);
    }

    [Fact]
    public async Task An_over_long_line_keeps_its_start_and_the_stream_stays_in_step()
    {
        var replies = await ReadAllAsync("250 " + new string('x', 20_000) + "\r\n251 next\r\n");

        Assert.Equal([250, 251], replies.Select(r => r.Code));
        Assert.StartsWith("250 xxx", replies[0].Text);
        Assert.True(replies[0].Text.Length < 10_000);
    }

    [Fact]
    public async Task A_reply_cut_off_by_the_server_is_end_of_stream()
    {
        Assert.Empty(await ReadAllAsync("250-first line\r\n250 sec"));
    }

    [Theory]
    [InlineData("250 2.1.5 Ok", "2.1.5")]
    [InlineData("550 5.7.1 <a@b>: Relay access denied", "5.7.1")]
    [InlineData("452 4.5.3 Error: too many recipients", "4.5.3")]
    [InlineData("554 5.123.456 long parts", "5.123.456")]
    [InlineData("550 Mailbox unavailable", "5.0.0")]
    [InlineData("421 mx closing", "4.0.0")]
    [InlineData("250 Ok", "2.0.0")]
    [InlineData("450 5.1.1 contradicts the code", "4.0.0")]
    [InlineData("550 5.1.1234 too many digits", "5.0.0")]
    [InlineData("550 5.1.1x glued", "5.0.0")]
    public void The_dsn_is_the_enhanced_code_or_derived_from_the_reply_code(string line, string dsn)
    {
        Assert.Equal(dsn, new SmtpReply(int.Parse(line[..3]), [line]).Dsn);
    }

    [Fact]
    public void Ehlo_keywords_are_recognised_case_insensitively()
    {
        var features = EhloFeatures.Parse(new SmtpReply(250,
            ["250-mx.example greets you", "250-pipelining", "250-SIZE 10240000", "250-8BITMIME", "250-SMTPUTF8", "250-DSN", "250-STARTTLS", "250 "]));

        Assert.Equal(new EhloFeatures(true, true, 10240000, true, true, true, true), features);
    }

    [Fact]
    public void The_first_ehlo_line_is_the_server_name_not_a_keyword()
    {
        var features = EhloFeatures.Parse(new SmtpReply(250, ["250 PIPELINING"]));
        Assert.Equal(EhloFeatures.None, features);
    }

    [Theory]
    [InlineData("250-SIZE", 0)]
    [InlineData("250-SIZE 0", 0)]
    [InlineData("250-SIZE junk", 0)]
    [InlineData("250-SIZE 52428800", 52428800)]
    public void Size_without_a_limit_is_offered_with_limit_zero(string line, long limit)
    {
        var features = EhloFeatures.Parse(new SmtpReply(250, ["250-mx", line, "250 HELP"]));
        Assert.True(features.Size);
        Assert.Equal(limit, features.SizeLimit);
    }
}
