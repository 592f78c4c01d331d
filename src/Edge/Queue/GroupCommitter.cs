using System.Threading.Channels;
using FASTER.core;

namespace Edge.Queue;

/// <summary>
/// Group commit: sessions that finished a message ask for a commit and wait until the log's committed
/// address covers their record. One loop issues the commits, so every session that asked while a commit was
/// in flight is covered by the next one: many messages, one disk flush.
/// </summary>
internal sealed class GroupCommitter : IAsyncDisposable
{
    private readonly FasterLog _log;
    private readonly Channel<bool> _requests =
        Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Task _loop;
    private readonly Action<Exception> _onFailure;

    public GroupCommitter(FasterLog log, Action<Exception> onFailure)
    {
        _log = log;
        _onFailure = onFailure;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Completes when everything up to and including the record at <paramref name="address"/> is on disk.</summary>
    public ValueTask WaitCommittedAsync(long address, CancellationToken cancellationToken)
    {
        _requests.Writer.TryWrite(true);
        return _log.WaitForCommitAsync(address + 1, token: cancellationToken);
    }

    private async Task RunAsync()
    {
        while (await _requests.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            _requests.Reader.TryRead(out _);
            try
            {
                await _log.CommitAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _onFailure(e);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
