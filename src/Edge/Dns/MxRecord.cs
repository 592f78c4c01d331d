namespace Edge.Dns;

/// <summary>One MX record. <see cref="Exchange"/> has no trailing dot; a null MX (RFC 7505) has Exchange "".</summary>
internal sealed record MxRecord(int Preference, string Exchange);
