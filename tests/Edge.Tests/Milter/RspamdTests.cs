using Edge.Tests.Support;

namespace Edge.Tests.Milter;

/// <summary>rspamd from Debian, one instance for the class (it takes seconds to start), through its milter proxy.</summary>
public sealed class RspamdFixture : IAsyncLifetime
{
    public MilterPeer Rspamd { get; private set; } = null!;

    public async Task InitializeAsync() => Rspamd = await MilterPeer.RspamdAsync();

    public async Task DisposeAsync() => await Rspamd.DisposeAsync();
}

public class RspamdTests(RspamdFixture fixture) : IClassFixture<RspamdFixture>
{
    private const string Gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Gtube_is_rejected_with_rspamds_reply_and_clean_mail_gets_its_headers(bool bdat)
    {
        using var directory = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync($"smtpd_milters = {fixture.Rspamd.Endpoint}", reuse: directory);
        Assert.Equal("554 5.7.1 Gtube pattern",
            await edge.SendAsync($"From: a@example.org\r\nSubject: test\r\n\r\n{Gtube}\r\n", bdat));
        Assert.Empty(await edge.QueuedAsync());

        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync(
            "From: a@example.org\r\nTo: user@edge.test\r\nSubject: hello\r\nMessage-ID: <clean.1@example.org>\r\n\r\nA clean message.\r\n", bdat));
        string stored = await edge.SingleMessageContentAsync();
        Assert.Matches(@"\r\nX-Spamd-Result: default: False \[", stored);
        Assert.Contains("\r\nX-Rspamd-Server: ", stored);
        Assert.EndsWith("\r\n\r\nA clean message.\r\n", stored);
    }
}
