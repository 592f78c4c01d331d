using Edge.Config;
using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>
/// smtpd_restriction_classes and the bare type:table of a restriction list, as postconf(5) and RESTRICTION_CLASS_README
/// describe them, over a real socket.
/// </summary>
public class RestrictionClassTests
{
    private static async Task<EdgeInstance> StartAsync(TempDirectory directory, string mainCf, params (string Name, string Text)[] tables)
    {
        foreach ((string name, string text) in tables)
        {
            directory.Write(name, text);
        }
        return await EdgeInstance.StartAsync(mainCf.Replace("$DIR", directory.Path), reuse: directory);
    }

    private static async Task<string> RcptAsync(EdgeInstance edge, string sender, string recipient, string helo = "client.example")
    {
        await using var c = await edge.ConnectAsync();
        await c.CommandAsync($"EHLO {helo}");
        Assert.StartsWith("250 ", await c.CommandAsync($"MAIL FROM:<{sender}>"));
        return await c.CommandAsync($"RCPT TO:<{recipient}>");
    }

    /// <summary>RESTRICTION_CLASS_README's example: some recipients take mail from anyone, others only from local senders.</summary>
    [Theory]
    [InlineData("anyone@example.org", "everyone@edge.test", "250 2.1.5 Ok")]
    [InlineData("anyone@example.org", "staff@edge.test", "554 5.7.1 <staff@edge.test>: Recipient address rejected: Access denied")]
    [InlineData("boss@edge.test", "staff@edge.test", "250 2.1.5 Ok")]
    [InlineData("anyone@example.org", "other@edge.test", "250 2.1.5 Ok")]
    public async Task A_class_named_by_an_access_table_applies_to_that_recipient(string sender, string recipient, string reply)
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory, """
            smtpd_restriction_classes = permissive, insiders_only
            permissive = permit
            insiders_only = check_sender_access hash:$DIR/local_senders, reject
            smtpd_recipient_restrictions = check_recipient_access hash:$DIR/protected, reject_unauth_destination
            """,
            ("protected", "everyone@edge.test permissive\nstaff@edge.test insiders_only\n"),
            ("local_senders", "edge.test OK\n"));
        Assert.Equal(reply, await RcptAsync(edge, sender, recipient));
    }

    [Fact]
    public async Task A_class_may_be_named_in_a_list_itself_and_counts_as_the_relay_guard()
    {
        // Postfix's has_required() looks into classes: reject_unauth_destination inside one satisfies it.
        await using var edge = await EdgeInstance.StartAsync("""
            smtpd_restriction_classes = relay_guard
            relay_guard = permit_mynetworks, reject_unauth_destination
            smtpd_relay_restrictions =
            smtpd_recipient_restrictions = relay_guard
            mynetworks = 192.0.2.0/24
            """);
        Assert.Equal("554 5.7.1 <someone@example.net>: Relay access denied", await RcptAsync(edge, "a@example.org", "someone@example.net"));
        Assert.Equal("250 2.1.5 Ok", await RcptAsync(edge, "a@example.org", "user@edge.test"));
    }

    [Fact]
    public async Task A_class_without_a_definition_stops_start_up_naming_it()
    {
        using var directory = new TempDirectory();
        var e = await Assert.ThrowsAsync<ConfigException>(() => StartAsync(directory, "smtpd_restriction_classes = undefined_class"));
        Assert.Contains("smtpd_restriction_classes: restriction class `undefined_class' needs a definition", e.Message);
    }

    /// <summary>The seeds' own example: a bare table in smtpd_client_restrictions is check_client_access.</summary>
    [Theory]
    [InlineData("smtpd_client_restrictions = hash:$DIR/access", "554 5.7.1 <localhost[127.0.0.1]>: Client host rejected: Local clients are not welcome")]
    [InlineData("smtpd_helo_restrictions = hash:$DIR/access", "554 5.7.1 <bad.example>: Helo command rejected: No such helo")]
    [InlineData("smtpd_sender_restrictions = hash:$DIR/access", "550 5.7.1 <spam@example.org>: Sender address rejected: Spammer")]
    [InlineData("smtpd_recipient_restrictions = hash:$DIR/access, reject_unauth_destination", "450 4.7.1 <closed@edge.test>: Recipient address rejected: Closed today")]
    public async Task A_bare_table_is_the_access_check_of_its_list(string list, string reply)
    {
        using var directory = new TempDirectory();
        await using var edge = await StartAsync(directory, list, ("access", """
            127.0.0.1          REJECT Local clients are not welcome
            bad.example        REJECT No such helo
            spam@example.org   550 Spammer
            closed@edge.test   DEFER Closed today
            """));
        Assert.Equal(reply, await RcptAsync(edge, "spam@example.org", "closed@edge.test", helo: "bad.example"));
    }

    [Fact]
    public async Task A_bare_table_in_the_data_restrictions_stops_start_up()
    {
        using var directory = new TempDirectory();
        directory.Write("access", "x OK\n");
        var e = await Assert.ThrowsAsync<ConfigException>(() => StartAsync(directory, "smtpd_data_restrictions = hash:$DIR/access"));
        Assert.Contains("smtpd_data_restrictions: specify one of (check_client_access", e.Message);
    }

    [Fact]
    public void Class_parameters_are_not_unused_parameters()
    {
        using var directory = new TempDirectory();
        directory.Write("main.cf", "smtpd_restriction_classes = permissive\npermissive = permit\nmystery = 1\n");
        var warnings = new List<string>();
        MainConfig.Load(directory.Path, warnings.Add);
        Assert.EndsWith("main.cf, line 3: unused parameter: mystery=1", Assert.Single(warnings));
    }
}
