namespace Edge.Smtp.Protocol;

/// <summary>
/// Every fixed reply, as Postfix's smtpd words it, in one place. Replies that carry a host name, an
/// address, a number or a queue ID are a literal prefix here plus the variable part written after it.
/// </summary>
internal static class Replies
{
    public static ReadOnlySpan<byte> Ok => "250 2.0.0 Ok"u8;
    public static ReadOnlySpan<byte> MailOk => "250 2.1.0 Ok"u8;
    public static ReadOnlySpan<byte> RcptOk => "250 2.1.5 Ok"u8;
    public static ReadOnlySpan<byte> Bye => "221 2.0.0 Bye"u8;
    public static ReadOnlySpan<byte> StartData => "354 End data with <CR><LF>.<CR><LF>"u8;
    public static ReadOnlySpan<byte> QueuedAs => "250 2.0.0 Ok: queued as "u8;
    public static ReadOnlySpan<byte> BdatOkPrefix => "250 2.0.0 Ok: "u8;
    public static ReadOnlySpan<byte> BdatBytes => " bytes"u8;
    public static ReadOnlySpan<byte> BdatBytesQueuedAs => " bytes queued as "u8;
    public static ReadOnlySpan<byte> Help => "214 2.0.0 Commands: BDAT DATA EHLO HELO HELP MAIL NOOP QUIT RCPT RSET STARTTLS VRFY"u8;
    public static ReadOnlySpan<byte> ReadyToStartTls => "220 2.0.0 Ready to start TLS"u8;

    public static ReadOnlySpan<byte> HeloSyntax => "501 Syntax: HELO hostname"u8;
    public static ReadOnlySpan<byte> EhloSyntax => "501 Syntax: EHLO hostname"u8;
    public static ReadOnlySpan<byte> SendHeloFirst => "503 5.5.1 Error: send HELO/EHLO first"u8;
    public static ReadOnlySpan<byte> NestedMail => "503 5.5.1 Error: nested MAIL command"u8;
    public static ReadOnlySpan<byte> MailAfterBdat => "503 5.5.1 Error: MAIL after BDAT"u8;
    public static ReadOnlySpan<byte> RcptAfterBdat => "503 5.5.1 Error: RCPT after BDAT"u8;
    public static ReadOnlySpan<byte> DataAfterBdat => "503 5.5.1 Error: DATA after BDAT"u8;
    public static ReadOnlySpan<byte> NeedMail => "503 5.5.1 Error: need MAIL command"u8;
    public static ReadOnlySpan<byte> NeedRcpt => "503 5.5.1 Error: need RCPT command"u8;
    public static ReadOnlySpan<byte> NoValidRecipients => "554 5.5.1 Error: no valid recipients"u8;
    public static ReadOnlySpan<byte> MailSyntax => "501 5.5.4 Syntax: MAIL FROM:<address>"u8;
    public static ReadOnlySpan<byte> RcptSyntax => "501 5.5.4 Syntax: RCPT TO:<address>"u8;
    public static ReadOnlySpan<byte> DataSyntax => "501 5.5.4 Syntax: DATA"u8;
    public static ReadOnlySpan<byte> RsetSyntax => "501 5.5.4 Syntax: RSET"u8;
    public static ReadOnlySpan<byte> StartTlsSyntax => "501 5.5.4 Syntax: STARTTLS"u8;
    public static ReadOnlySpan<byte> VrfySyntax => "501 5.5.4 Syntax: VRFY address"u8;
    public static ReadOnlySpan<byte> VrfySyntaxUtf8 => "501 5.5.4 Syntax: VRFY address [SMTPUTF8]"u8;
    public static ReadOnlySpan<byte> BdatSyntax => "521 5.5.4 Syntax: BDAT count [LAST]"u8;
    public static ReadOnlySpan<byte> NullBdat => "551 5.7.1 Null BDAT request"u8;
    public static ReadOnlySpan<byte> BdatDiscardedPrefix => "551 5.0.0 Discarded "u8;
    public static ReadOnlySpan<byte> BdatDiscardedSuffix => " bytes after earlier error"u8;
    public static ReadOnlySpan<byte> BadSender => "501 5.1.7 Bad sender address syntax"u8;
    public static ReadOnlySpan<byte> BadRecipient => "501 5.1.3 Bad recipient address syntax"u8;
    public static ReadOnlySpan<byte> BadSize => "501 5.5.4 Bad message size syntax"u8;
    public static ReadOnlySpan<byte> SizeOverflow => "552 5.3.4 Message size exceeds file system imposed limit"u8;
    public static ReadOnlySpan<byte> SizeExceedsLimit => "552 5.3.4 Message size exceeds fixed limit"u8;
    public static ReadOnlySpan<byte> MessageTooBig => "552 5.3.4 Error: message file too big"u8;
    public static ReadOnlySpan<byte> TooManyHops => "554 5.4.0 Error: too many hops"u8;
    public static ReadOnlySpan<byte> ChunkTooBig => "552 5.3.4 Chunk exceeds message size limit"u8;
    public static ReadOnlySpan<byte> UnsupportedOption => "555 5.5.4 Unsupported option: "u8;
    public static ReadOnlySpan<byte> BadRet => "501 5.5.4 Bad RET parameter syntax"u8;
    public static ReadOnlySpan<byte> BadEnvId => "501 5.5.4 Bad ENVID parameter syntax"u8;
    public static ReadOnlySpan<byte> BadNotify => "501 5.5.4 Error: Bad NOTIFY parameter syntax"u8;
    public static ReadOnlySpan<byte> BadOrcpt => "501 5.5.4 Error: Bad ORCPT parameter syntax"u8;
    public static ReadOnlySpan<byte> TooManyRecipients => "452 4.5.3 Error: too many recipients"u8;
    public static ReadOnlySpan<byte> VrfyDisabled => "502 5.5.1 VRFY command is disabled"u8;
    public static ReadOnlySpan<byte> NotImplemented => "502 5.5.1 Error: command not implemented"u8;
    public static ReadOnlySpan<byte> NotRecognized => "500 5.5.2 Error: command not recognized"u8;
    public static ReadOnlySpan<byte> BadSyntax => "500 5.5.2 Error: bad syntax"u8;
    public static ReadOnlySpan<byte> BadUtf8 => "500 5.5.2 Error: bad UTF-8 syntax"u8;
    public static ReadOnlySpan<byte> BareLfSuffix => " 5.5.2 Error: bare <LF> received"u8;
    public static ReadOnlySpan<byte> MustStartTls => "530 5.7.0 Must issue a STARTTLS command first"u8;
    public static ReadOnlySpan<byte> TlsAlreadyActive => "554 5.5.1 Error: TLS already active"u8;
    public static ReadOnlySpan<byte> TlsNotAvailable => "454 4.7.0 TLS not available due to local problem"u8;
    public static ReadOnlySpan<byte> Forbidden => "221 2.7.0 Error: I can break rules, too. Goodbye."u8;
    public static ReadOnlySpan<byte> Synchronization => "554 5.5.0 Error: SMTP protocol synchronization"u8;
    public static ReadOnlySpan<byte> AuthNotEnabled => "503 5.5.1 Error: authentication not enabled"u8;
    public static ReadOnlySpan<byte> TransactionInProgress => "503 5.5.1 Error: MAIL transaction in progress"u8;
    public static ReadOnlySpan<byte> XclientSyntax => "501 5.5.4 Syntax: XCLIENT attribute=value..."u8;
    public static ReadOnlySpan<byte> XclientDenied => "550 5.7.0 Error: insufficient authorization"u8;
    public static ReadOnlySpan<byte> XclientExpected => "501 5.5.4 Error: attribute=value expected"u8;
    public static ReadOnlySpan<byte> QueueWriteError => "451 4.3.0 Error: queue file write error"u8;
    public static ReadOnlySpan<byte> TemporaryLookupFailure => "451 4.3.0 Error: temporary lookup failure"u8;
    public static ReadOnlySpan<byte> TemporaryLookupFailureClosing => "421 4.3.0 Error: temporary lookup failure; closing connection"u8;
    public static ReadOnlySpan<byte> AliasExpansionError => "451 4.3.0 Error: virtual alias expansion failed, try again later"u8;
    public static ReadOnlySpan<byte> InsufficientStorage => "452 4.3.1 Insufficient system storage"u8;

    /// <summary>421 replies carry the host name after the code: "421 4.4.2 host Error: timeout exceeded".</summary>
    public static ReadOnlySpan<byte> TimeoutPrefix => "421 4.4.2 "u8;
    public static ReadOnlySpan<byte> TimeoutSuffix => " Error: timeout exceeded"u8;
    public static ReadOnlySpan<byte> TooManyErrorsPrefix => "421 4.7.0 "u8;
    public static ReadOnlySpan<byte> TooManyErrorsSuffix => " Error: too many errors"u8;
    public static ReadOnlySpan<byte> TooManyConnectionsSuffix => " Error: too many connections from "u8;
    public static ReadOnlySpan<byte> ShuttingDown => "421 4.3.2 Service shutting down"u8;

    /// <summary>The reply to a MAIL FROM or RCPT TO argument Postfix refuses (an unsupported one is <see cref="UnsupportedOption"/> and the parameter).</summary>
    public static ReadOnlySpan<byte> ForEnvelopeError(EnvelopeError error) => error switch
    {
        EnvelopeError.MailSyntax => MailSyntax,
        EnvelopeError.RcptSyntax => RcptSyntax,
        EnvelopeError.BadSender => BadSender,
        EnvelopeError.BadRecipient => BadRecipient,
        EnvelopeError.BadSize => BadSize,
        EnvelopeError.SizeOverflow => SizeOverflow,
        EnvelopeError.BadRet => BadRet,
        EnvelopeError.BadEnvId => BadEnvId,
        EnvelopeError.BadNotify => BadNotify,
        EnvelopeError.MultipleAuth => "503 5.5.4 Error: multiple AUTH= options"u8,
        _ => BadOrcpt,
    };
}
