using System.Buffers;
using System.Collections.Concurrent;

namespace Edge.Logging;

/// <summary>
/// The buffers log lines are built in. Sessions take them on their threads and the log writer gives them
/// back on its own, hundreds at a time after each batch it writes: <see cref="ArrayPool{T}.Shared"/> keeps
/// too few arrays per size for that pattern, so under load most lines got a new buffer and the pool dropped
/// the returned ones. This pool keeps as many standard-sized buffers as there are lines in flight, up to a
/// bound; the rare longer line uses the shared pool.
/// </summary>
internal static class LogBuffers
{
    /// <summary>Chars in a standard buffer: room for nearly every line Edge logs.</summary>
    public const int StandardLength = 256;

    /// <summary>Buffers kept at most (about 2 MB): more than a busy server has in flight between writes.</summary>
    private const int MaxKept = 4096;

    private static readonly ConcurrentQueue<char[]> s_kept = new();
    private static int s_count;

    public static char[] Rent(int minimumLength)
    {
        if (minimumLength > StandardLength)
        {
            return ArrayPool<char>.Shared.Rent(minimumLength);
        }
        if (s_kept.TryDequeue(out char[]? buffer))
        {
            Interlocked.Decrement(ref s_count);
            return buffer;
        }
        return new char[StandardLength];
    }

    public static void Return(char[] buffer)
    {
        if (buffer.Length != StandardLength)
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
        else if (Interlocked.Increment(ref s_count) <= MaxKept)
        {
            s_kept.Enqueue(buffer);
        }
        else
        {
            Interlocked.Decrement(ref s_count);
        }
    }
}
