using Edge.Cleanup;
using Edge.Config;
using Edge.Logging;
using Edge.Mail;
using Edge.Milter;
using Edge.Queue;

namespace Edge.Hosting;

/// <summary>
/// master.cf's pickup line at run time: the maildrop is scanned at start-up, every wakeup seconds of the line (none
/// for 0), and whenever edge sendmail wakes it through the admin socket. Its cleanup settings are main.cf's with the
/// line's -o options (receive_override_options among them), as Postfix's pickup passes them to its cleanup.
/// </summary>
internal sealed class PickupService : IAsyncDisposable
{
    private readonly MaildropPickup _pickup;
    private readonly TimeSpan _wakeup;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    private PickupService(MaildropPickup pickup, TimeSpan wakeup)
    {
        _pickup = pickup;
        _wakeup = wakeup;
    }

    /// <summary>The pickup service master.cf asks for, not yet started; null without a pickup line.</summary>
    /// <param name="verify">What answers a sendmail -bv request (the queue manager's report); null without a queue manager.</param>
    public static PickupService? From(MainConfig main, MasterConfig master, QueueStore queue, string queueDirectory,
        Func<MaildropFile, CancellationToken, Task<QueueId>>? verify)
    {
        if (master.Services.FirstOrDefault(s => s.Command == "pickup") is not { } service)
        {
            return null;
        }
        MainConfig config = service.ConfigFrom(main);
        IReadOnlySet<string> overrides = SmtpdSettingsFactory.ReceiveOverrides(config);
        var kind = new InternalMail(CleanupSettings.From(config, SmtpdSettingsFactory.Classifier(config), overrides),
            overrides.Contains("no_milters") ? null : MilterSettings.From(config, "non_smtpd_milters"));
        return new PickupService(new MaildropPickup(queue, queueDirectory, kind, verify),
            service.Wakeup > 0 ? TimeSpan.FromSeconds(service.Wakeup) : Timeout.InfiniteTimeSpan);
    }

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>edge sendmail left a message: scan now.</summary>
    public void Wake() => _wake.Release();

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _pickup.ScanAsync(_stop.Token);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                MailLog.Warning($"maildrop: {e.Message}; trying again at the next scan", "pickup");
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            try
            {
                await _wake.WaitAsync(_wakeup, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _wake.Dispose();
    }
}
