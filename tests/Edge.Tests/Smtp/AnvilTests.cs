using System.Net;
using Edge.Smtp.Session;

namespace Edge.Tests.Smtp;

/// <summary>anvil(8)'s counts: connections open now, and events in the current time unit, which start again after it.</summary>
public class AnvilTests
{
    private static readonly IPAddress Client = IPAddress.Parse("192.0.2.7");

    [Fact]
    public async Task Each_kind_of_event_has_its_own_rate_and_all_start_again_after_the_time_unit()
    {
        var anvil = new Anvil(TimeSpan.FromMilliseconds(300));
        Assert.Equal((1, 1), await anvil.ConnectAsync(Client));
        Assert.Equal((2, 2), await anvil.ConnectAsync(Client));
        Assert.Equal(1, anvil.Count(Client, AnvilEvent.Message));
        Assert.Equal(2, anvil.Count(Client, AnvilEvent.Message));
        Assert.Equal(1, anvil.Count(Client, AnvilEvent.Recipient));
        Assert.Equal(0, anvil.Rate(Client, AnvilEvent.NewTlsSession));
        Assert.Equal(0, anvil.Rate(IPAddress.Parse("192.0.2.8"), AnvilEvent.Message));
        anvil.Disconnect(Client);
        Thread.Sleep(400);
        Assert.Equal(0, anvil.Rate(Client, AnvilEvent.Message));
        Assert.Equal(1, anvil.Count(Client, AnvilEvent.Message));
        // One connection is still open: the count of connections is not a rate.
        Assert.Equal((2, 1), await anvil.ConnectAsync(Client));
    }
}
