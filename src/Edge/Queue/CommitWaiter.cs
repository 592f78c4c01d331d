using System.Threading.Tasks.Sources;

namespace Edge.Queue;

/// <summary>
/// A session's reusable wait for the group commit that covers its message: one per session, so waiting
/// for durability allocates nothing.
/// </summary>
internal sealed class CommitWaiter(bool continueOnCommitter = false) : IValueTaskSource
{
    /// <summary>
    /// With <c>continueOnCommitter</c>, what follows the wait runs on the group committer's thread as soon as
    /// the commit is done, instead of waiting for a thread-pool thread: worth it only for short work (an SMTP
    /// session's reply), since the next commit waits for it.
    /// </summary>
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = !continueOnCommitter };

    /// <summary>The log address of the record that must be on disk.</summary>
    public long Address { get; private set; }

    public ValueTask Arm(long address)
    {
        _core.Reset();
        Address = address;
        return new ValueTask(this, _core.Version);
    }

    public void Complete() => _core.SetResult(true);

    public void Fail(Exception error) => _core.SetException(error);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token,
        ValueTaskSourceOnCompletedFlags flags) => _core.OnCompleted(continuation, state, token, flags);
}
