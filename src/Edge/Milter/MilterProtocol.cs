namespace Edge.Milter;

/// <summary>
/// The Sendmail milter protocol as Postfix's milter8.c speaks it: every packet is a 32-bit length in network order,
/// a one-byte command and its data. Commands go from the MTA to the filter, replies and modification requests back.
/// </summary>
internal static class MilterProtocol
{
    // MTA to filter.
    public const byte Abort = (byte)'A';
    public const byte Body = (byte)'B';
    public const byte Connect = (byte)'C';
    public const byte Macro = (byte)'D';
    public const byte EndOfBody = (byte)'E';
    public const byte Helo = (byte)'H';
    public const byte Header = (byte)'L';
    public const byte Mail = (byte)'M';
    public const byte EndOfHeaders = (byte)'N';
    public const byte Negotiate = (byte)'O';
    public const byte Quit = (byte)'Q';
    public const byte Rcpt = (byte)'R';
    public const byte Data = (byte)'T';
    public const byte Unknown = (byte)'U';

    // Filter to MTA: decisions.
    public const byte Continue = (byte)'c';
    public const byte Accept = (byte)'a';
    public const byte Reject = (byte)'r';
    public const byte Tempfail = (byte)'t';
    public const byte Discard = (byte)'d';
    public const byte ReplyCode = (byte)'y';
    public const byte Shutdown = (byte)'4';
    public const byte Progress = (byte)'p';
    public const byte Skip = (byte)'s';
    public const byte Quarantine = (byte)'q';

    // Filter to MTA: modifications, at the end of the message.
    public const byte AddRecipient = (byte)'+';
    public const byte DeleteRecipient = (byte)'-';
    public const byte AddRecipientWithArguments = (byte)'2';
    public const byte ReplaceBody = (byte)'b';
    public const byte AddHeader = (byte)'h';
    public const byte InsertHeader = (byte)'i';
    public const byte ChangeHeader = (byte)'m';
    public const byte ChangeSender = (byte)'e';

    // Address families of the connect event.
    public const byte FamilyInet = (byte)'4';
    public const byte FamilyInet6 = (byte)'6';
    public const byte FamilyUnknown = (byte)'U';

    // Macro stages (SMFIM_*), as a filter names them when it asks for its own macro lists.
    public const int StageConnect = 0;
    public const int StageHelo = 1;
    public const int StageMail = 2;
    public const int StageRcpt = 3;
    public const int StageData = 4;
    public const int StageEndOfMessage = 5;
    public const int StageEndOfHeaders = 6;

    /// <summary>Not a stage a filter can name: the index of milter_unknown_command_macros among the lists.</summary>
    public const int StageUnknown = 7;

    // Protocol flags (SMFIP_*): events the filter does not want, and events it will not answer.
    public const uint NoConnect = 1 << 0;
    public const uint NoHelo = 1 << 1;
    public const uint NoMail = 1 << 2;
    public const uint NoRcpt = 1 << 3;
    public const uint NoBody = 1 << 4;
    public const uint NoHeaders = 1 << 5;
    public const uint NoEndOfHeaders = 1 << 6;
    public const uint NoReplyHeader = 1 << 7;
    public const uint NoUnknown = 1 << 8;
    public const uint NoData = 1 << 9;
    public const uint SkipSupported = 1 << 10;
    public const uint RcptRejected = 1 << 11;
    public const uint NoReplyConnect = 1 << 12;
    public const uint NoReplyHelo = 1 << 13;
    public const uint NoReplyMail = 1 << 14;
    public const uint NoReplyRcpt = 1 << 15;
    public const uint NoReplyData = 1 << 16;
    public const uint NoReplyUnknown = 1 << 17;
    public const uint NoReplyEndOfHeaders = 1 << 18;
    public const uint NoReplyBody = 1 << 19;
    public const uint HeaderLeadingSpace = 1 << 20;

    /// <summary>The events a filter may decline (SMFIP_NOSEND_MASK).</summary>
    public const uint NoSendMask = NoConnect | NoHelo | NoMail | NoRcpt | NoBody | NoHeaders | NoEndOfHeaders | NoUnknown | NoData;

    /// <summary>The events each protocol version defines (Postfix's MILTER8_V*_PROTO_MASK).</summary>
    public const uint Version2Events = NoConnect | NoHelo | NoMail | NoRcpt | NoBody | NoHeaders | NoEndOfHeaders;
    public const uint Version3Events = Version2Events | NoUnknown;
    public const uint Version4Events = Version3Events | NoData;
    public const uint Version6Events = Version4Events | SkipSupported | RcptRejected | NoReplyHeader | NoReplyConnect
        | NoReplyHelo | NoReplyMail | NoReplyRcpt | NoReplyData | NoReplyUnknown | NoReplyEndOfHeaders | NoReplyBody
        | HeaderLeadingSpace;

    /// <summary>What Edge lets a filter do (SMFIF_*): every modification Postfix allows.</summary>
    public const uint Actions = 0x1 /* add headers */ | 0x2 /* replace body */ | 0x4 /* add recipients */
        | 0x8 /* delete recipients */ | 0x10 /* change headers */ | 0x20 /* quarantine */ | 0x40 /* change sender */
        | 0x80 /* add recipients with arguments */ | 0x100 /* set macro lists */;

    /// <summary>The most body bytes in one body packet.</summary>
    public const int ChunkSize = 65535;

    /// <summary>The longest packet Edge reads from a filter (Postfix: INT_MAX / 2; a body replacement is far smaller).</summary>
    public const int MaxPacket = 64 * 1024 * 1024;
}
