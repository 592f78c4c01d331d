using System.Net;
using System.Net.Sockets;
using Edge.Delivery.Smtp;
using Edge.Tests.Support;

namespace Edge.Tests.Delivery;

/// <summary>Servers that cannot be reached or do not talk: every failure becomes deferred outcomes.</summary>
public class DeliveryFailureTests
{
    [Fact]
    public async Task Nothing_listening_defers_with_relay_none()
    {
        int port = ListeningPort.Free();
        var outcomes = await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@nowhere.test", "b@nowhere.test"),
            Messages.Options(), Messages.Local("nowhere.test", port));

        Assert.All(outcomes, o =>
        {
            Assert.Equal(RecipientStatus.Deferred, o.Status);
            Assert.Equal("4.4.1", o.Dsn);
            Assert.Equal($"connect to nowhere.test[127.0.0.1]:{port}: Connection refused", o.Reply);
            Assert.Equal("none", o.Relay);
        });
    }

    [Fact]
    public async Task No_server_at_all_defers()
    {
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@nowhere.test"), Messages.Options()));

        Assert.Equal(RecipientStatus.Deferred, outcome.Status);
        Assert.Equal("none", outcome.Relay);
    }

    [Fact]
    public async Task A_refusing_first_server_is_skipped_for_the_second()
    {
        await using var edge = await EdgeInstance.StartAsync();
        int closed = ListeningPort.Free();
        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: second"), "user@edge.test"),
            Messages.Options(), Messages.Local("mx1.edge.test", closed), Messages.Local("mx2.edge.test", edge.Port)));

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        Assert.Equal($"mx2.edge.test[127.0.0.1]:{edge.Port}", outcome.Relay);
        Assert.Single(await edge.QueuedAsync());
    }

    [Fact]
    public async Task A_server_that_never_greets_times_out()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Task<Socket> accepted = listener.AcceptSocketAsync();
        var options = new SmtpClientOptions { HeloTimeout = TimeSpan.FromSeconds(1) };

        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "a@silent.test"),
            options, Messages.Local("silent.test", port)));
        using Socket socket = await accepted;

        Assert.Equal(RecipientStatus.Deferred, outcome.Status);
        Assert.Equal("4.4.2", outcome.Dsn);
        Assert.Equal("conversation with silent.test[127.0.0.1] timed out while receiving the initial server greeting", outcome.Reply);
        Assert.Equal($"silent.test[127.0.0.1]:{port}", outcome.Relay);
    }

    [Fact]
    public async Task A_silent_first_server_is_skipped_for_the_second()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<Socket> accepted = listener.AcceptSocketAsync();
        await using var edge = await EdgeInstance.StartAsync();
        var options = new SmtpClientOptions { HeloTimeout = TimeSpan.FromSeconds(1) };

        var outcome = Assert.Single(await Messages.DeliverAsync(Messages.Request(Messages.Lines("Subject: x"), "user@edge.test"), options,
            Messages.Local("silent.test", ((IPEndPoint)listener.LocalEndpoint).Port), Messages.Local("mx.edge.test", edge.Port)));
        using Socket socket = await accepted;

        Assert.Equal(RecipientStatus.Sent, outcome.Status);
        Assert.Equal($"mx.edge.test[127.0.0.1]:{edge.Port}", outcome.Relay);
    }

    [Fact]
    public async Task The_callers_cancellation_is_an_operation_canceled_exception()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Task<Socket> accepted = listener.AcceptSocketAsync();
        await using var agent = new SmtpDeliveryAgent();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => agent.DeliverAsync(
            Messages.Request(Messages.Lines("Subject: x"), "a@silent.test"),
            [Messages.Local("silent.test", ((IPEndPoint)listener.LocalEndpoint).Port)], new SmtpClientOptions(), cancel.Token));
        using Socket socket = await accepted;
    }
}
