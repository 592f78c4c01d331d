using System.Collections.Concurrent;
using Acornima;
using Acornima.Ast;
using Edge.Dns;
using Edge.Restrictions.Policy.Store;
using Edge.Tables;
using Jint;

namespace Edge.Restrictions.Policy;

/// <summary>
/// A JavaScript policy (check_policy_script FILE), run by Jint: the script defines <c>function policy(request)</c>,
/// or a function for the stage it answers (<see cref="ScriptStages"/>: rcpt, data …), which gets the attributes
/// of Postfix's policy delegation protocol (SMTPD_POLICY_README: request.sender, request.client_address …) and returns an access(5) action — "DUNNO" (or nothing), "OK", "REJECT text",
/// "DEFER text", "450 4.7.1 text", or restriction names — exactly what a check_policy_service server answers; an
/// async function's promise is awaited. The script is parsed once when the configuration is loaded and its top level
/// run once then, so a syntax error stops start-up or a reload with the file and line; it runs in
/// <see cref="PolicyRunner"/>'s slots, each call within <see cref="ScriptLimits"/>. Besides the
/// language, it has <c>log(text)</c> (a line in the mail log), <c>store</c> (<see cref="PolicyStoreObject"/>),
/// <c>tables.lookup(table, key)</c> and <c>net.inCidr(address, network)</c> (<see cref="ScriptInstance"/>), and
/// <c>dns.resolve(name, type)</c> (<see cref="ScriptDns"/>).
/// </summary>
internal sealed class PolicyScript : IPolicy
{
    private PolicyScript(string path, Prepared<Script> prepared, ScriptLimits limits, IPolicyStore store, DnsResolver dns, TableSettings tables)
    {
        Dns = dns;
        Path = path;
        Prepared = prepared;
        Limits = limits;
        Store = store;
        _remoteTables = tables;
    }

    private readonly TableSettings _remoteTables;

    public string Path { get; }

    public string Name => Path;

    /// <summary>The parsed script every engine runs.</summary>
    public Prepared<Script> Prepared { get; }

    public ScriptLimits Limits { get; }

    /// <summary>What <c>store</c> keeps values in (edge_policy_store).</summary>
    public IPolicyStore Store { get; }

    /// <summary>What <c>dns</c> asks: Edge's resolver, with its cache.</summary>
    public DnsResolver Dns { get; }

    private readonly ConcurrentDictionary<string, ILookupTable> _tables = new(StringComparer.Ordinal);

    /// <summary>A table the script looks up (tables.lookup), opened on first use and kept; null with the reason when it cannot be opened.</summary>
    public ILookupTable? Table(string reference, out string? error)
    {
        error = null;
        if (_tables.TryGetValue(reference, out ILookupTable? table))
        {
            return table;
        }
        table = TableFactory.Open(reference, _remoteTables, out error);
        return table is null ? null : _tables.GetOrAdd(reference, table);
    }

    /// <summary>Engines that have run the script and are free: one per call running at most.</summary>
    public ConcurrentStack<ScriptInstance> Engines { get; } = new();

    /// <summary>The script, parsed and its top level run once to find its mistakes; null with the reason when it cannot be used.</summary>
    public static PolicyScript? Load(string path, ScriptLimits limits, IPolicyStore store, DnsResolver dns, TableSettings tables,
        out string? error)
    {
        error = null;
        string source;
        try
        {
            source = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            error = $"check_policy_script {path}: {e.Message}";
            return null;
        }
        Prepared<Script> prepared;
        try
        {
            prepared = Engine.PrepareScript(source, path);
        }
        catch (ScriptPreparationException e) when (e.InnerException is ParseErrorException parse)
        {
            error = $"check_policy_script {path}, line {parse.LineNumber}: {parse.Description}";
            return null;
        }
        var script = new PolicyScript(path, prepared, limits, store, dns, tables);
        try
        {
            // The engine that checked the script serves its first call: the top level runs once, not twice.
            var instance = new ScriptInstance(script, log: null);
            if (!instance.Defines(ScriptStages.Fallback) && !ScriptStages.All.Any(stage => instance.Defines(stage.Function)))
            {
                instance.Dispose();
                error = $"check_policy_script {path}: the script defines no function policy(request) " +
                    $"and none for a stage ({string.Join(", ", ScriptStages.All.Select(s => s.Function + "(request)"))})";
            }
            else
            {
                script.Engines.Push(instance);
            }
        }
        catch (Exception e)
        {
            error = $"check_policy_script {path}{ScriptFailure.Describe(e)}";
        }
        return error is null ? script : null;
    }

    /// <summary>The script's action for <paramref name="request"/>; edge_policy_default_action when it failed or was stopped (logged).</summary>
    public Task<string?> AskAsync(PolicyRequest request, CancellationToken cancellationToken) =>
        PolicyRunner.RunAsync(this, request, function: null, cancellationToken);
}
