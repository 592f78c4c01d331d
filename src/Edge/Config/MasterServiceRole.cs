namespace Edge.Config;

/// <summary>What Edge does with a master.cf service.</summary>
public enum MasterServiceRole
{
    /// <summary>An inet service whose command is smtpd or postscreen: Edge listens on its endpoint.</summary>
    Listener,

    /// <summary>A pass service whose command is smtpd: the server a postscreen listener hands the clients it passes to.</summary>
    Screened,

    /// <summary>A unix service whose command is a delivery agent (smtp, lmtp, virtual, local, pipe, error, discard).</summary>
    Transport,

    /// <summary>One of Postfix's own daemons that Edge does in-process (cleanup, qmgr …) or has no use for (tlsmgr): accepted and noted.</summary>
    Internal,

    /// <summary>Anything else (spawn, a program Edge does not know): refused, as an unimplemented parameter is.</summary>
    Other,
}
