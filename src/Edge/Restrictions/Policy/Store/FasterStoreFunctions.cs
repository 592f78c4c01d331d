using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;
using FASTER.core;

namespace Edge.Restrictions.Policy.Store;

/// <summary>
/// A value of <see cref="FasterPolicyStore"/> as its record holds it: when it expires (Unix milliseconds, little-endian,
/// so that it means the same after a restart), then the value in UTF-8. Keys are their UTF-8 bytes. Both live in
/// FASTER's own pages as bytes: no object in the store is ever reached through memory FASTER copies.
/// </summary>
internal static class StoredValue
{
    public const int ExpiresLength = sizeof(long);

    /// <summary>Digits of the largest count.</summary>
    private const int MaxCountDigits = 20;

    public static long Expires(ref SpanByte value) => BinaryPrimitives.ReadInt64LittleEndian(value.AsReadOnlySpan());

    public static string Text(ref SpanByte value) => Encoding.UTF8.GetString(value.AsReadOnlySpan()[ExpiresLength..]);

    /// <summary>The count an increment makes of <paramref name="old"/>: one more than a live count, else a new count of 1.</summary>
    public static (long Count, long Expires) Next(ref SpanByte old, ref IncrementInput input)
    {
        long expires = Expires(ref old);
        if (expires <= input.Now)
        {
            return (1, input.Expires);
        }
        long count = Utf8Parser.TryParse(old.AsReadOnlySpan()[ExpiresLength..], out long parsed, out int used) && used == old.Length - ExpiresLength
            ? parsed : 0;
        return (count + 1, expires);
    }

    /// <summary>Bytes of a counter's record value, without FASTER's length prefix.</summary>
    public static int CounterLength(long count) => ExpiresLength + Digits(count);

    public static void WriteCounter(ref SpanByte value, long count, long expires)
    {
        Span<byte> bytes = value.AsSpan();
        BinaryPrimitives.WriteInt64LittleEndian(bytes, expires);
        Utf8Formatter.TryFormat(count, bytes[ExpiresLength..], out _);
    }

    private static int Digits(long count)
    {
        Span<byte> digits = stackalloc byte[MaxCountDigits];
        Utf8Formatter.TryFormat(count, digits, out int written);
        return written;
    }
}

/// <summary>The input of every operation: now, and when a counter started now expires.</summary>
internal readonly record struct IncrementInput(long Now, long Expires);

/// <summary>What an operation gives back: a read's live value (null when it expired), an increment's new count.</summary>
internal struct StoreOutput
{
    public string? Value;
    public long Count;
}

/// <summary>
/// FasterKV's callbacks for the policy store: reads decode a live value, upserts replace a value of the same length in
/// place (FASTER appends any other), and an increment (RMW) counts on from a live counter or starts a new one at 1 —
/// FASTER runs it under the record's lock, so concurrent increments of one key never lose a count. A count that needs
/// one more digit does not fit its record; FASTER then copies it to a new one of <see cref="CounterLength"/>.
/// </summary>
internal sealed class FasterStoreFunctions : FunctionsBase<SpanByte, SpanByte, IncrementInput, StoreOutput, Empty>
{
    public override bool SingleReader(ref SpanByte key, ref IncrementInput input, ref SpanByte value, ref StoreOutput dst, ref ReadInfo readInfo)
    {
        dst.Value = StoredValue.Expires(ref value) > input.Now ? StoredValue.Text(ref value) : null;
        return true;
    }

    public override bool ConcurrentReader(ref SpanByte key, ref IncrementInput input, ref SpanByte value, ref StoreOutput dst, ref ReadInfo readInfo) =>
        SingleReader(ref key, ref input, ref value, ref dst, ref readInfo);

    public override bool SingleWriter(ref SpanByte key, ref IncrementInput input, ref SpanByte src, ref SpanByte dst, ref StoreOutput output,
        ref UpsertInfo upsertInfo, WriteReason reason)
    {
        src.CopyTo(ref dst);
        return true;
    }

    public override bool ConcurrentWriter(ref SpanByte key, ref IncrementInput input, ref SpanByte src, ref SpanByte dst, ref StoreOutput output,
        ref UpsertInfo upsertInfo)
    {
        if (dst.Length != src.Length)
        {
            return false;
        }
        src.CopyTo(ref dst);
        return true;
    }

    public override bool InitialUpdater(ref SpanByte key, ref IncrementInput input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        StoredValue.WriteCounter(ref value, 1, input.Expires);
        output.Count = 1;
        return true;
    }

    public override bool InPlaceUpdater(ref SpanByte key, ref IncrementInput input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        (long count, long expires) = StoredValue.Next(ref value, ref input);
        if (StoredValue.CounterLength(count) != value.Length)
        {
            return false;
        }
        StoredValue.WriteCounter(ref value, count, expires);
        output.Count = count;
        return true;
    }

    public override bool CopyUpdater(ref SpanByte key, ref IncrementInput input, ref SpanByte oldValue, ref SpanByte newValue, ref StoreOutput output,
        ref RMWInfo rmwInfo)
    {
        (long count, long expires) = StoredValue.Next(ref oldValue, ref input);
        StoredValue.WriteCounter(ref newValue, count, expires);
        output.Count = count;
        return true;
    }

    /// <summary>Tombstones have no room for a value.</summary>
    public override bool SingleDeleter(ref SpanByte key, ref SpanByte value, ref DeleteInfo deleteInfo) => true;
}

/// <summary>The length of the value an increment writes, which FASTER asks before it makes the record.</summary>
internal sealed class CounterLength : IVariableLengthStruct<SpanByte, IncrementInput>
{
    public int GetInitialLength(ref IncrementInput input) => sizeof(int) + StoredValue.CounterLength(1);

    public int GetLength(ref SpanByte t, ref IncrementInput input) => sizeof(int) + StoredValue.CounterLength(StoredValue.Next(ref t, ref input).Count);
}

/// <summary>Compaction leaves out what expired.</summary>
internal readonly struct ExpiredValues(long now) : ICompactionFunctions<SpanByte, SpanByte>
{
    public bool IsDeleted(ref SpanByte key, ref SpanByte value) => StoredValue.Expires(ref value) <= now;
}
