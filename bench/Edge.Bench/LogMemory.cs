using Edge.Mail;
using Edge.Queue;

namespace Edge.Bench;

/// <summary>
/// FASTER allocates the pages of its in-memory log (<see cref="QueueStore.LogMemoryBytes"/>) as the log
/// first grows through them and reuses them from then on. A benchmark measured before the log went past them
/// would count that one-time allocation against its first thousands of messages; its setup writes past them
/// first, so that the figures are those of a server that has been running for a while.
/// </summary>
internal static class LogMemory
{
    public static async Task FillAsync(QueueStore queue)
    {
        byte[] filler = new byte[32 * 1024];
        RecordHeader.Write(filler, RecordType.Removed, new QueueId(1));
        RecordHeader.Seal(filler);
        long last = 0;
        for (long written = 0; written < 2 * QueueStore.LogMemoryBytes; written += filler.Length)
        {
            last = queue.Append(filler);
        }
        await queue.WaitCommittedAsync(last, new CommitWaiter());
    }
}
