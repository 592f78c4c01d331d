using System.Globalization;
using FASTER.core;

namespace Edge.Restrictions.Policy.Store;

/// <summary>A value of <see cref="FasterPolicyStore"/> and when it expires (Unix milliseconds, so that it means the same after a restart).</summary>
internal sealed record StoredValue(string Value, long Expires);

/// <summary>The input of an increment: now, and when a counter started now expires.</summary>
internal readonly record struct IncrementInput(long Now, long Expires);

/// <summary>
/// FasterKV's callbacks for the policy store: reads hand out the stored value, upserts replace it, and an increment
/// (RMW) counts on from a live counter or starts a new one at 1 — FASTER runs it under the record's lock, so
/// concurrent increments of one key never lose a count.
/// </summary>
internal sealed class FasterStoreFunctions : FunctionsBase<string, StoredValue, IncrementInput, StoredValue, Empty>
{
    public override bool SingleReader(ref string key, ref IncrementInput input, ref StoredValue value, ref StoredValue dst, ref ReadInfo readInfo)
    {
        dst = value;
        return true;
    }

    public override bool ConcurrentReader(ref string key, ref IncrementInput input, ref StoredValue value, ref StoredValue dst, ref ReadInfo readInfo)
    {
        dst = value;
        return true;
    }

    public override bool InitialUpdater(ref string key, ref IncrementInput input, ref StoredValue value, ref StoredValue output, ref RMWInfo rmwInfo)
    {
        value = output = new StoredValue("1", input.Expires);
        return true;
    }

    public override bool InPlaceUpdater(ref string key, ref IncrementInput input, ref StoredValue value, ref StoredValue output, ref RMWInfo rmwInfo)
    {
        value = output = Next(value, input);
        return true;
    }

    public override bool CopyUpdater(ref string key, ref IncrementInput input, ref StoredValue oldValue, ref StoredValue newValue, ref StoredValue output, ref RMWInfo rmwInfo)
    {
        newValue = output = Next(oldValue, input);
        return true;
    }

    private static StoredValue Next(StoredValue old, IncrementInput input) => old.Expires > input.Now
        ? new StoredValue(((long.TryParse(old.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long count) ? count : 0) + 1)
            .ToString(CultureInfo.InvariantCulture), old.Expires)
        : new StoredValue("1", input.Expires);
}

/// <summary>Compaction leaves out what expired.</summary>
internal readonly struct ExpiredValues(long now) : ICompactionFunctions<string, StoredValue>
{
    public bool IsDeleted(ref string key, ref StoredValue value) => value.Expires <= now;
}

/// <summary>Keys as they are written to FASTER's object log.</summary>
internal sealed class StoreKeySerializer : BinaryObjectSerializer<string>
{
    public override void Deserialize(out string obj) => obj = reader.ReadString();

    public override void Serialize(ref string obj) => writer.Write(obj);
}

/// <summary>Values as they are written to FASTER's object log.</summary>
internal sealed class StoreValueSerializer : BinaryObjectSerializer<StoredValue>
{
    public override void Deserialize(out StoredValue obj)
    {
        long expires = reader.ReadInt64();
        obj = new StoredValue(reader.ReadString(), expires);
    }

    public override void Serialize(ref StoredValue obj)
    {
        writer.Write(obj.Expires);
        writer.Write(obj.Value);
    }
}
