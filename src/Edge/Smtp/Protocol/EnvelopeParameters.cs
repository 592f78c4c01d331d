using Edge.Mail;

namespace Edge.Smtp.Protocol;

/// <summary>Why a MAIL or RCPT command was refused; each maps to one Postfix reply.</summary>
internal enum EnvelopeError : byte
{
    None,
    MailSyntax,
    RcptSyntax,
    BadSender,
    BadRecipient,
    BadSize,
    SizeOverflow,
    Unsupported,
    BadRet,
    BadEnvId,
    BadNotify,
    BadOrcpt,
    MultipleAuth,
}

/// <summary>The parsed arguments of MAIL FROM; ranges index into the argument span.</summary>
internal struct MailArguments
{
    public Range Address;
    public long Size;
    public BodyType Body;
    public bool SmtpUtf8;
    public DsnReturn Ret;
    public Range EnvId;
    /// <summary>AUTH=: who the client says submitted the message (RFC 4954), xtext; empty when not given.</summary>
    public Range Auth;
    /// <summary>The offending "KEY=value" for a 555 reply.</summary>
    public Range BadParameter;
}

/// <summary>The parsed arguments of RCPT TO; ranges index into the argument span.</summary>
internal struct RcptArguments
{
    public Range Address;
    public DsnNotify Notify;
    public Range Orcpt;
    public Range BadParameter;
}
