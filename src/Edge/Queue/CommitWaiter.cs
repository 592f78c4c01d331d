using System.Threading.Tasks.Sources;

namespace Edge.Queue;

/// <summary>
/// A session's reusable wait for the group commit that covers its message: one per session, so waiting
/// for durability allocates nothing.
/// </summary>
internal sealed class CommitWaiter : IValueTaskSource
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

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
