using System.Net;
using Edge.Smtp.Screen;
using Edge.Smtp.Session;

namespace Edge.Hosting;

/// <summary>
/// One master.cf smtpd or postscreen service at run time. Its settings can be replaced by a reload: sessions that start
/// afterwards get the new ones, sessions already running keep theirs.
/// </summary>
internal sealed class Listener(string service, IReadOnlyList<IPEndPoint> endpoints, SmtpdSettings settings, ScreenSettings? screen = null)
{
    private volatile SmtpdSettings _settings = settings;
    private volatile ScreenSettings? _screen = screen;

    /// <summary>The master.cf service name (its listen address).</summary>
    public string Service { get; } = service;

    public IReadOnlyList<IPEndPoint> Endpoints { get; } = endpoints;

    public SmtpdSettings Settings
    {
        get => _settings;
        set => _settings = value;
    }

    /// <summary>A postscreen service's settings; null for an smtpd service. <see cref="Settings"/> are then its smtpd's (the pass service's).</summary>
    public ScreenSettings? Screen
    {
        get => _screen;
        set => _screen = value;
    }

    /// <summary>The connections each client has open through postscreen.</summary>
    public ScreenClients ScreenClients { get; } = new();

    /// <summary>
    /// The listener's client counts; anvil_rate_time_unit, and the store the rates are shared through, are the ones it
    /// started with, as anvil(8) reads its settings once.
    /// </summary>
    public Anvil Anvil { get; } = new(settings.AnvilTimeUnit, settings.SharedRates, service);
}
