using Edge.Tests.Support;

namespace Edge.Tests.Integration;

/// <summary>Limits on connections and on how long a client may hold one.</summary>
public class ConnectionLimitTests
{
    [Fact]
    public async Task Per_client_connection_count_limit()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_client_connection_count_limit = 2\nmynetworks = 192.0.2.0/24");
        await using var first = await edge.ConnectAsync();
        await using (var second = await edge.ConnectAsync())
        {
            await using var third = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
            Assert.Equal("421 4.7.0 mx.edge.test Error: too many connections from 127.0.0.1", await third.ReadReplyAsync());
            Assert.True(await third.IsClosedAsync());
        }
        await Task.Delay(200);
        await using var again = await edge.ConnectAsync();
        Assert.Equal("250 2.0.0 Ok", await again.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Mynetworks_clients_are_exempt_from_the_per_client_limit()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_client_connection_count_limit = 1");
        await using var first = await edge.ConnectAsync();
        await using var second = await edge.ConnectAsync();
        Assert.Equal("250 2.0.0 Ok", await second.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Server_wide_connection_limit()
    {
        await using var edge = await EdgeInstance.StartAsync("edge_connection_limit = 2");
        await using var first = await edge.ConnectAsync();
        await using var second = await edge.ConnectAsync();
        await using var third = await SmtpConnection.OpenAsync(edge.Port, readGreeting: false);
        Assert.Equal("421 4.7.0 mx.edge.test Error: too many connections", await third.ReadReplyAsync());
        Assert.True(await third.IsClosedAsync());
    }

    [Fact]
    public async Task Per_request_deadline_stops_a_trickling_client()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_timeout = 2s\nsmtpd_per_request_deadline = yes");
        await using var c = await edge.ConnectAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Task<string> reply = c.ReadReplyAsync();
        try
        {
            for (int i = 0; i < 20 && !reply.IsCompleted; i++)
            {
                await c.SendAsync("X");
                await Task.Delay(400);
            }
        }
        catch (IOException)
        {
            // The server hung up while we were still trickling.
        }
        Assert.Equal("421 4.4.2 mx.edge.test Error: timeout exceeded", await reply);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Without_per_request_deadline_each_byte_restarts_the_clock()
    {
        await using var edge = await EdgeInstance.StartAsync("smtpd_timeout = 2s");
        await using var c = await edge.ConnectAsync();
        for (int i = 0; i < 10; i++)
        {
            await c.SendAsync(i == 9 ? "\r\n" : "X");
            await Task.Delay(400);
        }
        Assert.Equal("500 5.5.2 Error: command not recognized", await c.ReadReplyAsync());
    }

    [Fact]
    public async Task Session_time_limit_ends_even_a_busy_session()
    {
        await using var edge = await EdgeInstance.StartAsync("edge_session_time_limit = 2s");
        await using var c = await edge.ConnectAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string last = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(8))
        {
            try
            {
                last = await c.CommandAsync("NOOP");
            }
            catch (IOException)
            {
                break;
            }
            if (!last.StartsWith("250"))
            {
                break;
            }
            await Task.Delay(200);
        }
        Assert.Equal("421 4.4.2 mx.edge.test Error: timeout exceeded", last);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(5));
    }
}
