namespace Edge.Mail;

/// <summary>RFC 6152 / 3030 body type declared with BODY=.</summary>
internal enum BodyType : byte
{
    Unspecified,
    SevenBit,
    EightBitMime,
}

/// <summary>RFC 3461 RET=.</summary>
internal enum DsnReturn : byte
{
    Unspecified,
    Full,
    Headers,
}

/// <summary>RFC 3461 NOTIFY= as flags; Never excludes the others.</summary>
[Flags]
internal enum DsnNotify : byte
{
    Unspecified = 0,
    Never = 1,
    Success = 2,
    Failure = 4,
    Delay = 8,
}
