namespace Edge.Dns;

/// <summary>The question of a query; a reply must repeat it (compared case-insensitively) to be accepted.</summary>
internal readonly record struct DnsQuestion(string Name, DnsRecordType Type, ushort Class = DnsQuestion.ClassIn)
{
    public const ushort ClassIn = 1;

    public bool Matches(DnsQuestion other) =>
        Type == other.Type && Class == other.Class && DnsName.Equal(Name, other.Name);
}
