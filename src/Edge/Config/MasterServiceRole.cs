namespace Edge.Config;

/// <summary>What Edge does with a master.cf service.</summary>
public enum MasterServiceRole
{
    /// <summary>An inet service whose command is smtpd: Edge listens on its endpoint.</summary>
    Listener,

    /// <summary>A unix service whose command is a delivery agent (smtp, lmtp, virtual, local, pipe, error, discard).</summary>
    Transport,

    /// <summary>One of Postfix's own daemons (pickup, cleanup, qmgr …): built into Edge, the line is accepted and noted.</summary>
    Internal,

    /// <summary>Anything else: kept, for the caller to report as not supported.</summary>
    Other,
}
