using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Edge.Tests.Delivery;

/// <summary>Ports for peers that take a port number on their command line, and a way to see them listen without connecting.</summary>
internal static class ListeningPort
{
    /// <summary>A port that was free a moment ago (the system picks it).</summary>
    public static int Free()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// Waits until something listens on 127.0.0.1:<paramref name="port"/>, reading /proc/net/tcp: a test
    /// connection would count as a session for a peer that stops after a number of them.
    /// </summary>
    public static async Task WaitAsync(int port, Func<bool> exited, string what)
    {
        for (int i = 0; i < 200; i++)
        {
            if (Count(port, Listen) > 0)
            {
                return;
            }
            Assert.False(exited(), $"{what} exited before listening on port {port}");
            await Task.Delay(50);
        }
        Assert.Fail($"{what} is not listening on port {port}");
    }

    private const string Listen = "0A", TimeWait = "06";

    /// <summary>The connections of 127.0.0.1:<paramref name="port"/>, on either side, that are in TIME_WAIT.</summary>
    public static int TimeWaits(int port) => Count(port, TimeWait);

    /// <summary>The IPv4 sockets of /proc/net/tcp in <paramref name="state"/> with 127.0.0.1:<paramref name="port"/> at either end.</summary>
    private static int Count(int port, string state)
    {
        string end = $"0100007F:{port.ToString("X4", CultureInfo.InvariantCulture)}";
        return File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(fields => fields[3] == state && (fields[1] == end || fields[2] == end));
    }
}
