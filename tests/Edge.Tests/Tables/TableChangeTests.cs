using Edge.Tests.Support;

namespace Edge.Tests.Tables;

/// <summary>A table file that changes is read again without a reload, as Postfix's daemons restart when theirs change.</summary>
public class TableChangeTests
{
    private static async Task<string> RcptAsync(EdgeProcess edge, string recipient)
    {
        await using var c = await SmtpConnection.OpenAsync(edge.Port);
        await c.CommandAsync("EHLO client.example");
        await c.CommandAsync("MAIL FROM:<sender@example.org>");
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    [Fact]
    public async Task An_edited_access_table_decides_the_next_recipient_and_a_broken_edit_keeps_the_table_as_it_was()
    {
        using var config = new TempDirectory();
        config.Write("access", "blocked@edge.test REJECT blocked\n");
        config.Write("main.cf", EdgeInstance.BaseMainCf(config) + $"""

            smtpd_recipient_restrictions = check_recipient_access hash:{config.File("access")}, permit_mynetworks, reject_unauth_destination
            """ + "\n");
        config.Write("master.cf", "127.0.0.1:0 inet n - n - - smtpd\n");
        await using var edge = await EdgeProcess.StartAsync(config.Path, config.Path);
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "newly@edge.test"));

        config.Write("access", "blocked@edge.test REJECT blocked\nnewly@edge.test REJECT now blocked too\n");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal("554 5.7.1 <newly@edge.test>: Recipient address rejected: now blocked too", await RcptAsync(edge, "newly@edge.test"));
        await edge.WaitForLogAsync($@"master\[\d+\]: table hash:{System.Text.RegularExpressions.Regex.Escape(config.File("access"))} has changed -- read again");

        // A line the table's syntax refuses: the warning says so, and the table as it was still decides.
        config.Write("access", "newly@edge.test\n");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal("554 5.7.1 <newly@edge.test>: Recipient address rejected: now blocked too", await RcptAsync(edge, "newly@edge.test"));
        await edge.WaitForLogAsync(@"master\[\d+\]: warning: table hash:.* has changed and cannot be read: .*line 1.*; the table as it was stays in use");
    }
}
