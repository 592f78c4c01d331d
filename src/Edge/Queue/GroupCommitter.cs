using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Edge.Metrics;
using FASTER.core;

namespace Edge.Queue;

/// <summary>
/// Group commit: sessions that finished a message hand in their <see cref="CommitWaiter"/>; one loop takes
/// every waiter that arrived, issues one commit, and releases those the committed address covers. Sessions
/// that arrive while a commit is in flight share the next one: many messages, one disk write.
/// </summary>
internal sealed class GroupCommitter : IAsyncDisposable
{
    private readonly FasterLog _log;
    private readonly Channel<bool> _requests =
        Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Queue<CommitWaiter> _waiting = new();
    private bool _stopped;
    private readonly List<CommitWaiter> _batch = [];
    private readonly Task _loop;
    private readonly Action<Exception> _onFailure;

    public GroupCommitter(FasterLog log, Action<Exception> onFailure)
    {
        _log = log;
        _onFailure = onFailure;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Completes when the record at <paramref name="address"/> is on disk; fails if the commit failed.</summary>
    public ValueTask WaitCommittedAsync(long address, CommitWaiter waiter)
    {
        ValueTask committed = waiter.Arm(address);
        lock (_waiting)
        {
            if (_stopped)
            {
                waiter.Fail(new ObjectDisposedException(nameof(GroupCommitter), "the queue is shutting down"));
                return committed;
            }
            _waiting.Enqueue(waiter);
        }
        _requests.Writer.TryWrite(true);
        return committed;
    }

    private async Task RunAsync()
    {
        while (await _requests.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            _requests.Reader.TryRead(out _);
            lock (_waiting)
            {
                while (_waiting.TryDequeue(out CommitWaiter? waiter))
                {
                    _batch.Add(waiter);
                }
            }
            if (_batch.Count == 0)
            {
                continue;
            }
            try
            {
                // Without a cancellation token, which would cost FASTER several allocations per commit; a broken
                // log fails the commit through FASTER itself (QueueStore.FailWaitingCommits).
                long started = Stopwatch.GetTimestamp();
                await _log.CommitAsync().ConfigureAwait(false);
                EdgeMetrics.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                EdgeMetrics.CommitBatch.Record(_batch.Count);
                long committed = _log.CommittedUntilAddress;
                foreach (CommitWaiter waiter in _batch)
                {
                    if (waiter.Address < committed)
                    {
                        waiter.Complete();
                    }
                    else
                    {
                        lock (_waiting)
                        {
                            _waiting.Enqueue(waiter);
                        }
                        _requests.Writer.TryWrite(true);
                    }
                }
            }
            catch (Exception e)
            {
                var failure = new IOException($"queue file write error: {Describe(e)}", e);
                _onFailure(failure);
                foreach (CommitWaiter waiter in _batch)
                {
                    waiter.Fail(failure);
                }
            }
            _batch.Clear();
        }
        var stopped = new ObjectDisposedException(nameof(GroupCommitter), "the queue is shutting down");
        lock (_waiting)
        {
            _stopped = true;
            _batch.AddRange(_waiting);
            _waiting.Clear();
        }
        // Outside the lock: a session's waiter runs the session on at once.
        foreach (CommitWaiter waiter in _batch)
        {
            waiter.Fail(stopped);
        }
        _batch.Clear();
    }

    /// <summary>What went wrong with a commit, in words: FASTER reports the error number of the failed write.</summary>
    public static string Describe(Exception e) => e switch
    {
        CommitFailureException { LinkedCommitInfo.CommitInfo.ErrorCode: var code and not 0 } =>
            Marshal.GetPInvokeErrorMessage((int)code),
        OperationCanceledException => "the queue log is broken by an earlier disk error",
        TimeoutException => "the disk did not finish it",
        _ => e.Message,
    };

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }
}
