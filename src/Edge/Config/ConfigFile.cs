namespace Edge.Config;

/// <summary>Reads a configuration file, turning I/O failures into <see cref="ConfigException"/>s that read like Postfix's.</summary>
static class ConfigFile
{
    public static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // .NET reports a directory as an access failure; say what it is, as the system would.
            var reason = Directory.Exists(path) ? "Is a directory" : Describe(e);
            throw new ConfigException(path, 0, null, $"cannot open file: {reason}");
        }
    }

    /// <summary>The system's wording for the common failures ("No such file or directory"), else the exception's message.</summary>
    public static string Describe(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "No such file or directory",
        UnauthorizedAccessException => "Permission denied",
        _ => e.Message,
    };
}
