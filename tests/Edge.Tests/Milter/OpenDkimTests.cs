using Edge.Tests.Support;

namespace Edge.Tests.Milter;

/// <summary>
/// opendkim from Debian as a milter: Edge signs outgoing mail through it, and a second Edge with opendkim verifying
/// receives that signed message as the next hop would and records the result in Authentication-Results.
/// </summary>
public class OpenDkimTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Mail_signed_through_opendkim_verifies_at_the_next_hop_and_a_changed_one_fails(bool bdat)
    {
        await using var signer = await MilterPeer.OpenDkimAsync();
        await using var verifier = await MilterPeer.OpenDkimAsync(verifyWith: signer);
        using var signing = new TempDirectory();
        using var verifying = new TempDirectory();
        await using var edge = await EdgeInstance.StartAsync($"smtpd_milters = {signer.Endpoint}", reuse: signing);
        await using var nextHop = await EdgeInstance.StartAsync($"smtpd_milters = {verifier.Endpoint}", reuse: verifying);

        string message = "From: Sender <sender@edge.test>\r\nTo: user@edge.test\r\nSubject: signed\r\n" +
            "Date: Sat, 05 Dec 2026 04:00:00 +0000\r\nMessage-ID: <signed.1@edge.test>\r\n\r\nThe body, signed.\r\n";
        Assert.StartsWith("250 2.0.0 Ok", await edge.SendAsync(message, bdat, "user@edge.test"));
        string signed = await edge.SingleMessageContentAsync();
        Assert.StartsWith("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=edge.test; s=sel;\r\n", signed);

        // What the next hop receives is the queued content; it answers with its own Received: header added first.
        Assert.StartsWith("250 2.0.0 Ok", await nextHop.SendAsync(signed, bdat: false, "user@edge.test"));
        string verified = await nextHop.SingleMessageContentAsync();
        Assert.Matches(@"^Authentication-Results: mx\.edge\.test;\r\n\tdkim=pass \(1024-bit key\) header\.d=edge\.test", verified);

        using var tamperedDirectory = new TempDirectory();
        await using var tamperedHop = await EdgeInstance.StartAsync($"smtpd_milters = {verifier.Endpoint}", reuse: tamperedDirectory);
        Assert.StartsWith("250", await tamperedHop.SendAsync(signed.Replace("The body, signed.", "The body, changed."), bdat: false, "user@edge.test"));
        Assert.Matches(@"^Authentication-Results: mx\.edge\.test;\r\n\tdkim=fail", await tamperedHop.SingleMessageContentAsync());
    }
}
