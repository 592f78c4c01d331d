using Edge.Cleanup;
using Edge.Config;
using Edge.Logging;
using Edge.Mail;
using Edge.Milter;
using Edge.Queue;

namespace Edge.Hosting;

/// <summary>
/// master.cf's pickup line at run time: the maildrop is scanned at start-up, every wakeup seconds of the line (none
/// for 0), and whenever a file appears in it (inotify, through FileSystemWatcher: sendmail needs no right to reach the
/// server, as any local user may run it; a missed event waits for the next wakeup). Its cleanup settings are main.cf's with the
/// line's -o options (receive_override_options among them), as Postfix's pickup passes them to its cleanup.
/// </summary>
internal sealed class PickupService : IAsyncDisposable
{
    private readonly MaildropPickup _pickup;
    private readonly FileSystemWatcher _watcher;
    private readonly TimeSpan _wakeup;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    private PickupService(MaildropPickup pickup, string maildrop, TimeSpan wakeup)
    {
        _pickup = pickup;
        _wakeup = wakeup;
        // sendmail renames a finished file into place; an overflow of events is a reason to look too.
        _watcher = new FileSystemWatcher(maildrop) { NotifyFilter = NotifyFilters.FileName, IncludeSubdirectories = false };
        _watcher.Created += (_, _) => Wake();
        _watcher.Renamed += (_, _) => Wake();
        _watcher.Error += (_, _) => Wake();
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
        return new PickupService(new MaildropPickup(queue, queueDirectory, kind, AuthorizedUsers.From(config), config.GetLong("message_size_limit"), verify),
            MaildropFile.Create(queueDirectory), service.Wakeup > 0 ? TimeSpan.FromSeconds(service.Wakeup) : Timeout.InfiniteTimeSpan);
    }

    public void Start()
    {
        _watcher.EnableRaisingEvents = true;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>A scan is due; one pending wake stands for any number of files that appeared meanwhile.</summary>
    private void Wake()
    {
        if (_wake.CurrentCount == 0)
        {
            _wake.Release();
        }
    }

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await _pickup.ScanAsync(_stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The queue or the directory failed (a full disk): the files wait for the next scan, and pickup goes on.
                MailLog.Warning($"maildrop: {e.Message}; trying again at the next scan", "pickup");
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
        _watcher.Dispose();
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
        _wake.Dispose();
    }
}
