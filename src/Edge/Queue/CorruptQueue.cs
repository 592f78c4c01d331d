using Edge.Mail;

namespace Edge.Queue;

/// <summary>
/// queue_directory/corrupt, where recovery puts what it cannot queue, as Postfix moves a damaged queue file to its
/// corrupt queue: a damaged record as it was (record-ADDRESS), and for a message it lost, a readable copy of what is
/// known of its envelope (ID) beside its intact content (ID.content). What is there was reported at an earlier
/// start; the log still holds it until it is cut, and it is not reported again.
/// </summary>
internal sealed class CorruptQueue(string queueDirectory)
{
    public string Directory { get; } = Path.Combine(queueDirectory, "corrupt");

    /// <summary>Saves a damaged record; false when an earlier start saved it already.</summary>
    public bool SaveRecord(long address, ReadOnlySpan<byte> record) => Save(RecordName(address), record);

    public static string RecordName(long address) => $"record-{address}";

    /// <summary>Whether the message's copy is there already.</summary>
    public bool Has(QueueId id) => File.Exists(Path.Combine(Directory, id.ToString()));

    /// <summary>The readable envelope as ID and the intact content, chunk after chunk, as ID.content.</summary>
    public async Task SaveMessageAsync(QueueId id, string envelope, IAsyncEnumerable<ReadOnlyMemory<byte>> content)
    {
        System.IO.Directory.CreateDirectory(Directory);
        await using (FileStream file = File.Create(Path.Combine(Directory, $"{id}.content")))
        {
            await foreach (ReadOnlyMemory<byte> chunk in content)
            {
                await file.WriteAsync(chunk);
            }
        }
        // The envelope last: its presence is what says the message was saved and reported.
        await File.WriteAllTextAsync(Path.Combine(Directory, id.ToString()), envelope);
    }

    private bool Save(string name, ReadOnlySpan<byte> bytes)
    {
        string path = Path.Combine(Directory, name);
        if (File.Exists(path))
        {
            return false;
        }
        System.IO.Directory.CreateDirectory(Directory);
        using FileStream file = File.Create(path);
        file.Write(bytes);
        return true;
    }
}
