namespace Edge.Resolve;

/// <summary>Where trivial-rewrite sends a recipient: a master.cf transport and its next hop.</summary>
internal readonly record struct Route(string Transport, string Nexthop)
{
    /// <summary>Parses transport(5)'s "transport:nexthop"; either side may be empty.</summary>
    public static Route Parse(string value)
    {
        int colon = value.IndexOf(':');
        return colon < 0 ? new Route(value.Trim(), "") : new Route(value[..colon].Trim(), value[(colon + 1)..].Trim());
    }

    public override string ToString() => $"{Transport}:{Nexthop}";
}
