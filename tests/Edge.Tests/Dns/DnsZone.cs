namespace Edge.Tests.Dns;

/// <summary>
/// An xunit class fixture: one dnsmasq serving <paramref name="records"/> (dnsmasq options such as
/// "--host-record=…") for every test of the class, stopped after the last.
/// </summary>
public abstract class DnsZone(IEnumerable<string> records) : IAsyncLifetime
{
    private Dnsmasq? _server;

    public Dnsmasq Server => _server ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync() => _server = await Dnsmasq.StartAsync(records);

    public Task DisposeAsync()
    {
        _server?.Dispose();
        return Task.CompletedTask;
    }
}
