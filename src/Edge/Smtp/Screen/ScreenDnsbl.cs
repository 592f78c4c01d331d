using System.Net;
using System.Net.Sockets;
using Edge.Config;
using Edge.Dns;
using Edge.Logging;
using Edge.Restrictions;
using Edge.Tables;

namespace Edge.Smtp.Screen;

/// <summary>A client's DNSBL score, the list to name in a reply, and how long the verdict may be cached.</summary>
internal readonly record struct DnsblScore(int Score, string? Name, TimeSpan Ttl);

/// <summary>
/// postscreen_dnsbl_sites: "domain[=filter][*weight]" entries, one query per domain however often it is listed. Each entry
/// whose filter matches any address of its domain's answer adds its weight once; the list named in a reply is the match
/// of the largest weight. The verdict's lifetime is the answers' (the listing's for a client listed, the negative
/// answer's for one not), between postscreen_dnsbl_min_ttl and _max_ttl. A lookup the DNS answered with an error
/// adds nothing and makes the lifetime the shortest; one without an answer yet (or any longer) counts for nothing.
/// </summary>
internal sealed class ScreenDnsbl
{
    private sealed record Site(string Domain, DnsList List, int Weight);

    /// <summary>A list's domain, asked once, with every entry that names it.</summary>
    private sealed record Domain(DnsList Query, Site[] Sites);

    private readonly Domain[] _domains;
    private readonly DnsResolver _dns;
    private readonly ILookupTable? _replyMap;

    private ScreenDnsbl(Site[] sites, DnsResolver dns, ILookupTable? replyMap, int threshold, int allowlistThreshold,
        TimeSpan minTtl, TimeSpan maxTtl, TimeSpan timeout)
    {
        _domains = [.. sites.GroupBy(s => s.Domain, StringComparer.OrdinalIgnoreCase).Select(g => new Domain(g.First().List, [.. g]))];
        _dns = dns;
        _replyMap = replyMap;
        Threshold = threshold;
        AllowlistThreshold = allowlistThreshold;
        MinTtl = minTtl;
        MaxTtl = maxTtl;
        Timeout = timeout;
    }

    public bool Enabled => _domains.Length > 0;
    public int Threshold { get; }
    public int AllowlistThreshold { get; }
    public TimeSpan MinTtl { get; }
    public TimeSpan MaxTtl { get; }
    public TimeSpan Timeout { get; }

    public static ScreenDnsbl From(MainConfig config, DnsResolver dns)
    {
        var sites = new List<Site>();
        foreach (string entry in config.GetList("postscreen_dnsbl_sites"))
        {
            int star = entry.IndexOf('*');
            int weight = 1;
            if (star >= 0 && !int.TryParse(entry[(star + 1)..], out weight))
            {
                throw config.Error("postscreen_dnsbl_sites", $"bad DNSBL weight factor \"{entry[(star + 1)..]}\" in \"{entry}\"");
            }
            string site = star >= 0 ? entry[..star] : entry;
            DnsList list = DnsList.Parse(site) ?? throw config.Error("postscreen_dnsbl_sites", $"bad DNSBL filter syntax: {site}");
            if (!Net.HostName.IsValid(list.Domain))
            {
                throw config.Error("postscreen_dnsbl_sites", $"bad DNSBL domain name \"{list.Domain}\"");
            }
            sites.Add(new Site(list.Domain, list, weight));
        }
        string replyMap = config.Get("postscreen_dnsbl_reply_map");
        ILookupTable? map = replyMap.Length == 0 ? null
            : TableFactory.Open(replyMap, TableSettings.From(config), out string? error) ?? throw config.Error("postscreen_dnsbl_reply_map", $"{replyMap}: {error ?? "cannot open"}");
        return new ScreenDnsbl([.. sites], dns, map, config.GetSignedInt("postscreen_dnsbl_threshold"), config.GetSignedInt("postscreen_dnsbl_allowlist_threshold"),
            config.GetTime("postscreen_dnsbl_min_ttl"), config.GetTime("postscreen_dnsbl_max_ttl"), config.GetTime("postscreen_dnsbl_timeout"));
    }

    /// <summary>Starts the lookups for <paramref name="client"/>; each task ends with its domain's answer, or a failure.</summary>
    public Task<DnsAnswer<IPAddress>>[] Start(IPAddress client, CancellationToken cancellationToken) =>
        [.. _domains.Select(domain => LookupAsync(client, domain, cancellationToken))];

    private async Task<DnsAnswer<IPAddress>> LookupAsync(IPAddress client, Domain list, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        string domain = list.Query.Domain;
        string query = list.Query.QueryFor(client);
        try
        {
            DnsAnswer<IPAddress> answer = await _dns.QueryAddressesAsync(query, AddressFamily.InterNetwork, deadline.Token);
            if (answer.Status is not (DnsStatus.Ok or DnsStatus.NoData or DnsStatus.NxDomain))
            {
                MailLog.Warning($"dnsblog_query: lookup error for DNS query {query}: {answer.Status}", "dnsblog");
            }
            foreach (IPAddress listed in answer.Records)
            {
                MailLog.Info($"addr {client} listed by domain {domain} as {listed}", "dnsblog");
            }
            return answer;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            MailLog.Warning($"dnsblog reply timeout {(int)Timeout.TotalSeconds}s for {domain}", "postscreen");
            return new DnsAnswer<IPAddress>(DnsStatus.Timeout, [], TimeSpan.Zero);
        }
    }

    /// <summary>The score of the lookups that have finished; those still running count as failed.</summary>
    public DnsblScore Score(Task<DnsAnswer<IPAddress>>[] lookups)
    {
        int score = 0;
        int bestWeight = 0;
        string? name = null;
        long passTtl = -1;
        long failTtl = -1;
        for (int i = 0; i < _domains.Length; i++)
        {
            if (!lookups[i].IsCompletedSuccessfully || lookups[i].Result.Status == DnsStatus.Timeout)
            {
                continue;
            }
            DnsAnswer<IPAddress> answer = lookups[i].Result;
            bool failed = answer.Status is not (DnsStatus.Ok or DnsStatus.NoData or DnsStatus.NxDomain);
            long ttl = failed ? -1 : (long)answer.Ttl.TotalSeconds;
            foreach (Site site in _domains[i].Sites)
            {
                bool listed = answer.Records.Count > 0;
                if (listed && site.List.Lists(answer.Records))
                {
                    score += site.Weight;
                    if (name is null || site.Weight > bestWeight)
                    {
                        name = site.Domain;
                        bestWeight = site.Weight;
                    }
                }
                // A listing's lifetime says how long a listed client stays failed, a negative answer's how long an
                // unlisted one passes; for an allowing (negative weight) list it is the other way round.
                if (listed == site.Weight > 0)
                {
                    failTtl = Lower(failTtl, ttl);
                }
                else
                {
                    passTtl = Lower(passTtl, ttl);
                }
            }
        }
        long seconds = score > 0 ? failTtl : passTtl;
        TimeSpan lifetime = TimeSpan.FromSeconds(Math.Clamp(seconds, (long)MinTtl.TotalSeconds, (long)Math.Max(MinTtl.TotalSeconds, MaxTtl.TotalSeconds)));
        return new DnsblScore(score, name, lifetime);
    }

    /// <summary>
    /// What postscreen_dnsbl_reply_map says the site is called in the reply (asked without holding a thread); the site's
    /// own name when it cannot say.
    /// </summary>
    public async ValueTask<string> ReplyNameAsync(string site, CancellationToken cancellationToken)
    {
        try
        {
            return _replyMap is null ? site : await _replyMap.LookupAsync(site, cancellationToken) ?? site;
        }
        catch (TableLookupException e)
        {
            MailLog.Warning($"postscreen_dnsbl_reply_map: {e.Message}", "postscreen");
            return site;
        }
    }

    /// <summary>Postfix's rule: a new lifetime replaces one not yet known (negative) or a longer one.</summary>
    private static long Lower(long current, long next) => current < 0 || current > next ? next : current;
}
