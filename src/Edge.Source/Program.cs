using System.Net.Sockets;
using Edge.Cli;
using Edge.Load;

// edge-source [options] HOST:PORT: what `edge source` runs, as a native program; its options and report are the command's.
try
{
    if (args.Contains("--help"))
    {
        Console.WriteLine(SourceOptions.Usage);
        return 0;
    }
    return await SourceCommand.RunHereAsync(args);
}
catch (UsageException e)
{
    Console.Error.WriteLine($"edge source: {e.Message}");
    return 2;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException)
{
    Console.Error.WriteLine($"edge source: fatal: {e.Message}");
    return 1;
}
