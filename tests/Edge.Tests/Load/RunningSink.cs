using System.Net;
using System.Text.Json;
using Edge.Cli;

namespace Edge.Tests.Load;

/// <summary>An <c>edge sink</c> in this process on a port of 127.0.0.1 the system chose, stopped as Ctrl-C stops it, with its JSON summary.</summary>
internal sealed class RunningSink : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop;
    private readonly Task<int> _run;

    private readonly StringWriter _printed;
    private readonly TextWriter _output;

    private RunningSink(CancellationTokenSource stop, Task<int> run, int port, StringWriter printed, TextWriter output, StringWriter errors)
    {
        _stop = stop;
        _run = run;
        Port = port;
        _printed = printed;
        _output = output;
        Errors = errors;
    }

    public int Port { get; }

    /// <summary>What the sink has printed so far (its periodic reports).</summary>
    public string Output
    {
        get
        {
            // The synchronized writer locks itself while it writes.
            lock (_output)
            {
                return _printed.ToString();
            }
        }
    }

    /// <summary>Its warnings and the line that says where it listens.</summary>
    public StringWriter Errors { get; }

    public string Target => $"127.0.0.1:{Port}";

    public static async Task<RunningSink> StartAsync(params string[] args)
    {
        var printed = new StringWriter();
        TextWriter output = TextWriter.Synchronized(printed);
        var errors = new StringWriter();
        var stop = new CancellationTokenSource();
        var listening = new TaskCompletionSource<IPEndPoint>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<int> run = SinkCommand.RunAsync([.. args, "--json", "127.0.0.1:0"], output, TextWriter.Synchronized(errors), stop.Token, listening.SetResult);
        Task first = await Task.WhenAny(listening.Task, run);
        if (first == run)
        {
            await run;
            throw new InvalidOperationException($"edge sink ended before it listened: {errors}");
        }
        return new RunningSink(stop, run, listening.Task.Result.Port, printed, output, errors);
    }

    /// <summary>Stops the sink; its summary at exit.</summary>
    public async Task<JsonElement> StopAsync()
    {
        await _stop.CancelAsync();
        Assert.Equal(0, await _run.WaitAsync(TimeSpan.FromSeconds(30)));
        string text = Output;
        // The summary at exit is the last JSON document printed (periodic reports come before it).
        int last = text.LastIndexOf("\n{", StringComparison.Ordinal);
        return JsonDocument.Parse(last < 0 ? text : text[(last + 1)..]).RootElement.Clone();
    }

    public static long Reply(JsonElement report, int code) =>
        report.GetProperty("replies").TryGetProperty(code.ToString(System.Globalization.CultureInfo.InvariantCulture), out JsonElement count) ? count.GetInt64() : 0;

    public async ValueTask DisposeAsync()
    {
        if (!_run.IsCompleted)
        {
            await _stop.CancelAsync();
            await _run.WaitAsync(TimeSpan.FromSeconds(30));
        }
        _stop.Dispose();
    }
}
