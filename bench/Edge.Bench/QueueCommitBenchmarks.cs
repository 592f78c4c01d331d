using BenchmarkDotNet.Attributes;
using Edge.Mail;
using Edge.Queue;

namespace Edge.Bench;

/// <summary>
/// One group commit with one small record in it, through the real queue (FasterLog on Edge's log device):
/// what a commit costs, however many messages share it. Most of what it allocates is FASTER's own per-commit
/// work (its commit task, the metadata it serialises).
/// </summary>
[MemoryDiagnoser]
public class QueueCommitBenchmarks
{
    private string _directory = "";
    private QueueStore? _queue;
    private readonly CommitWaiter _waiter = new();
    private readonly byte[] _record = new byte[64];

    [GlobalSetup]
    public async Task Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "edge-bench-" + Guid.NewGuid().ToString("N"));
        _queue = await QueueStore.OpenAsync(_directory);
        await LogMemory.FillAsync(_queue);
        RecordHeader.Write(_record, RecordType.Removed, new QueueId(1));
        RecordHeader.Seal(_record);
    }

    [Benchmark]
    public async Task OneCommit()
    {
        long a = _queue!.Append(_record);
        await _queue.WaitCommittedAsync(a, _waiter);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await _queue!.DisposeAsync();
        Directory.Delete(_directory, true);
    }
}
