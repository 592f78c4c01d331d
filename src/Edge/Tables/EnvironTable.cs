namespace Edge.Tables;

/// <summary>
/// environ: — the value of the environment variable the key names (Postfix's dict_env), from the environment
/// import_environment gives the server (or a command, for postmap): a daemon sees only what that list imports. As in
/// Postfix, the key is folded to lower case first, so only variables with lower-case names can be found.
/// </summary>
internal sealed class EnvironTable(IReadOnlyDictionary<string, string> variables) : ILookupTable
{
    public string? Lookup(string key) => variables.GetValueOrDefault(key.ToLowerInvariant());
}
