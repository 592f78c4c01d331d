using System.Collections;
using System.Runtime.InteropServices;

namespace Edge.Cli;

/// <summary>Another program run in place of this one, in this process (execve(2)).</summary>
internal static partial class Exec
{
    /// <summary>
    /// Runs <paramref name="command"/> (the program, then its arguments) in place of this program, with
    /// <paramref name="environment"/> added to this process's: the process, its ID, its standard streams and the signals
    /// sent to it become the program's, which ends it with its own exit code. Returns only by throwing: why it could not.
    /// </summary>
    public static void Replace(IReadOnlyList<string> command, IReadOnlyDictionary<string, string> environment)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            variables[(string)variable.Key] = (string?)variable.Value ?? "";
        }
        foreach ((string name, string value) in environment)
        {
            variables[name] = value;
        }
        RemoveDiagnosticsFiles();
        nint[] argv = Strings(command);
        nint[] envp = Strings([.. variables.Select(variable => $"{variable.Key}={variable.Value}")]);
        try
        {
            _ = Execve(command[0], argv, envp);
            throw new IOException($"cannot run {command[0]}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
        finally
        {
            foreach (nint text in argv.Concat(envp))
            {
                Marshal.FreeCoTaskMem(text);
            }
        }
    }

    /// <summary>
    /// The runtime's diagnostics socket and debugger pipes in the temp directory: the runtime removes them as it shuts
    /// down, which it does not when another program takes its place. Left, they would also keep this program started again
    /// (the same process ID and start time name the same files) from making its own.
    /// </summary>
    private static void RemoveDiagnosticsFiles()
    {
        int pid = Environment.ProcessId;
        foreach (string pattern in (string[])[$"dotnet-diagnostic-{pid}-*-socket", $"clr-debug-pipe-{pid}-*"])
        {
            foreach (string file in Directory.GetFiles(Path.GetTempPath(), pattern))
            {
                File.Delete(file);
            }
        }
    }

    /// <summary>A C array of C strings, ended by a null pointer.</summary>
    private static nint[] Strings(IReadOnlyList<string> texts) => [.. texts.Select(Marshal.StringToCoTaskMemUTF8), 0];

    [LibraryImport("libc", EntryPoint = "execve", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Execve(string path, nint[] argv, nint[] envp);
}
