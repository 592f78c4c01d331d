using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Edge.Config;
using Edge.Dns;
using Edge.Hosting;
using Edge.Restrictions.Policy;
using Edge.Restrictions.Policy.Store;
using Edge.Smtp.Tls;

namespace Edge.Load;

/// <summary>
/// What every session of <c>edge sink</c> shares: its options, what -c DIR's main.cf gives (myhostname,
/// message_size_limit, the certificate, the timeouts, the policy script's limits, store and resolver), the loaded
/// policy, the greylisting triplets and the counts.
/// </summary>
internal sealed class SinkSettings : IAsyncDisposable
{
    /// <summary>The main.cf parameters the sink takes; any other that main.cf sets is said not to apply.</summary>
    private static readonly string[] Parameters =
        ["myhostname", "mydomain", "message_size_limit", "smtpd_tls_cert_file", "smtpd_tls_key_file", "smtpd_upstream_proxy_timeout",
         "smtpd_timeout", "edge_metrics_listen", "queue_directory", "import_environment", "config_directory"];

    private static readonly string[] ParameterPrefixes = ["edge_policy_", "edge_dns_", "edge_table_"];

    private SinkSettings(SinkOptions options, MainConfig config)
    {
        Options = options;
        Config = config;
        Hostname = options.Hostname ?? config.Get("myhostname");
        SizeLimit = config.GetLong("message_size_limit");
        Timeout = config.GetTime("smtpd_timeout");
        PolicyBodyLimit = config.GetInt("edge_policy_body_limit");
        ProxyTimeout = config.GetTime("smtpd_upstream_proxy_timeout");
        Greeting = Encoding.ASCII.GetBytes($"220 {Hostname} ESMTP edge sink");
        EhloAfterTls = Ehlo(tls: false);
        EhloBeforeTls = Ehlo(tls: options.Tls);
    }

    public SinkOptions Options { get; }

    public MainConfig Config { get; }

    public string Hostname { get; }

    /// <summary>message_size_limit: the largest content taken (0: no limit).</summary>
    public long SizeLimit { get; }

    /// <summary>smtpd_timeout: how long the sink waits for a client that says nothing.</summary>
    public TimeSpan Timeout { get; }

    public TimeSpan ProxyTimeout { get; }

    /// <summary>edge_policy_body_limit: how much of the body endOfData() sees.</summary>
    public int PolicyBodyLimit { get; }

    public byte[] Greeting { get; }

    /// <summary>The EHLO reply before STARTTLS (with STARTTLS offered when --tls) and after it.</summary>
    public byte[] EhloBeforeTls { get; }

    public byte[] EhloAfterTls { get; }

    public X509Certificate2? Certificate { get; private set; }

    public PolicyScript? Policy { get; private set; }

    /// <summary>Whether the policy answers each protocol_state (it defines the stage's function, or policy()).</summary>
    public IReadOnlySet<string> PolicyStates { get; private set; } = new HashSet<string>();

    /// <summary>Whether endOfData() sees the message: the sink then holds each message's content until its end.</summary>
    public bool PolicySeesMessage { get; private set; }

    public SinkStats Stats { get; } = new();

    /// <summary>--greylist: when each client address, sender and recipient was first seen (Environment.TickCount64).</summary>
    public ConcurrentDictionary<string, long> Greylist { get; } = new(StringComparer.Ordinal);

    /// <summary>How long a triplet is remembered after its greylisting ends, for the client's retry.</summary>
    private static readonly TimeSpan GreylistRetention = TimeSpan.FromMinutes(10);

    /// <summary>Forgets the triplets first seen longer ago than --greylist and its retention: the table does not grow for ever.</summary>
    public void ForgetOldTriplets()
    {
        if (Options.Greylist is not { } wait)
        {
            return;
        }
        long before = Environment.TickCount64 - (long)(wait + GreylistRetention).TotalMilliseconds;
        foreach ((string triplet, long first) in Greylist)
        {
            if (first < before)
            {
                Greylist.TryRemove(new KeyValuePair<string, long>(triplet, first));
            }
        }
    }

    /// <summary>Numbers for the queue IDs of accepted messages and the --keep files.</summary>
    private long _messageNumber;

    public long NextMessageNumber() => Interlocked.Increment(ref _messageNumber);

    /// <summary>When the sink started: --keep's file names begin with it, so that runs into one directory do not collide.</summary>
    public string RunStamp { get; } = DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);

    private PolicyStores? _stores;
    private DnsResolver? _dns;

    /// <summary>The settings, with what main.cf gives and the policy loaded; throws ConfigException (with the file and parameter) or FormatException.</summary>
    public static SinkSettings Load(SinkOptions options, Action<string> warn)
    {
        MainConfig config = MainConfig.Load(options.ConfigDirectory, warn);
        config.Validate();
        string[] ignored = [.. config.NonDefault().Select(p => p.Name)
            .Where(name => !Parameters.Contains(name) && !ParameterPrefixes.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal)))];
        if (ignored.Length > 0)
        {
            warn($"{config.File} sets {string.Join(", ", ignored)}, which edge sink does not apply: it answers by its own options " +
                "(and --policy), with no restrictions, milters, tables or queue");
        }
        if (!options.Tls && (config.IsSet("smtpd_tls_cert_file") || config.IsSet("smtpd_tls_key_file")))
        {
            warn($"{config.File} sets smtpd_tls_cert_file, but edge sink offers STARTTLS only with --tls (or --tls-cert)");
        }
        var settings = new SinkSettings(options, config);
        try
        {
            settings.Certificate = !options.Tls ? null
                : options.TlsCertificate is { } file ? LoadCertificate(file, options.TlsKey)
                : config.Get("smtpd_tls_cert_file").Length > 0 ? ServerTlsSettings.LoadCertificate(config, "smtpd", "--tls")
                : MakeCertificate(settings.Hostname);
            if (options.Policy is { } path)
            {
                if (config.IsSet("edge_policy_store") && !PolicyStores.IsShared(config))
                {
                    warn($"{config.File} sets edge_policy_store = {config.Get("edge_policy_store")}; edge sink keeps the policy's store in memory " +
                        "instead (a redis: store is used as set)");
                }
                settings.LoadPolicy(Path.GetFullPath(path));
            }
            if (options.KeepDirectory is { } keep)
            {
                try
                {
                    Directory.CreateDirectory(keep);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new FormatException($"--keep: cannot make {keep}: {e.Message}");
                }
            }
            return settings;
        }
        catch
        {
            settings.Certificate?.Dispose();
            throw;
        }
    }

    private void LoadPolicy(string path)
    {
        ScriptLimits limits = ScriptLimits.From(Config);
        _stores = new PolicyStores(openFaster: false);
        _dns = DeliveryFactory.Resolver(Config, out string? dnsError);
        if (dnsError is not null)
        {
            throw Config.Error("edge_dns_servers", dnsError);
        }
        Policy = PolicyScript.Load(path, limits, _stores.Open(Config, limits.Time), _dns, Tables.TableSettings.From(Config), out string? error)
            ?? throw new FormatException($"--policy: {error}");
        // The engine that checked the script is in the pool now: it tells which stages the script answers.
        Policy.Engines.TryPeek(out ScriptInstance? engine);
        bool fallback = engine!.Defines(ScriptStages.Fallback);
        PolicyStates = ScriptStages.All.Where(stage => fallback || engine.Defines(stage.Function)).Select(stage => stage.State).ToHashSet();
        PolicySeesMessage = engine.Defines("endOfData");
    }

    private static X509Certificate2 LoadCertificate(string certificate, string? key)
    {
        try
        {
            return ServerTlsSettings.FromPem(certificate, key);
        }
        catch (Exception e) when (ServerTlsSettings.IsLoadFailure(e))
        {
            throw new FormatException($"--tls-cert: cannot load {certificate}{(key is null ? "" : $" with key {key}")}: {e.Message}");
        }
    }

    /// <summary>A self-signed certificate for <paramref name="hostname"/>, made at start: clients that check certificates will not trust it.</summary>
    private static X509Certificate2 MakeCertificate(string hostname)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={hostname}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostname);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 made = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return X509CertificateLoader.LoadPkcs12(made.Export(X509ContentType.Pkcs12), null);
    }

    private byte[] Ehlo(bool tls)
    {
        var lines = new List<string> { Hostname, "PIPELINING", SizeLimit > 0 ? $"SIZE {SizeLimit}" : "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES" };
        if (tls)
        {
            lines.Add("STARTTLS");
        }
        if (Options.Chunking)
        {
            lines.Add("CHUNKING");
        }
        if (Options.SmtpUtf8)
        {
            lines.Add("SMTPUTF8");
        }
        if (!Options.Pipelining)
        {
            lines.Remove("PIPELINING");
        }
        var reply = new StringBuilder();
        for (int i = 0; i < lines.Count; i++)
        {
            reply.Append(i < lines.Count - 1 ? "250-" : "250 ").Append(lines[i]).Append("\r\n");
        }
        return Encoding.ASCII.GetBytes(reply.ToString());
    }


    public async ValueTask DisposeAsync()
    {
        Certificate?.Dispose();
        _dns?.Dispose();
        if (_stores is not null)
        {
            await _stores.DisposeAsync();
        }
    }
}
