namespace Edge.Config;

/// <summary>The transport column of a master.cf service.</summary>
public enum MasterServiceType
{
    Inet,
    Unix,
    UnixDgram,
    Fifo,
    Pass,
}
