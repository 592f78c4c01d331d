using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text;
using Edge.Config;
using Edge.Delivery.Virtual;
using Edge.Queue;

namespace Edge.Delivery.Pipe;

/// <summary>
/// pipe(8): runs the service's argv= command as its user= account with the message on standard input, and
/// turns the exit status into the recipients' fate the way Postfix does — 0 delivered, sysexits.h codes by
/// their DSN class, a signal deferred, anything else or the time limit bounced, with the command's output as
/// the reason.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal sealed class PipeTransport : ITransport
{
    /// <summary>How much of the command's output goes into the reason, as Postfix keeps a bounded log buffer.</summary>
    private const int OutputLimit = 2000;

    private const string SetPriv = "/usr/bin/setpriv";

    private readonly string _name;
    private readonly PipeCommand _command;
    private readonly uint _uid;
    private readonly uint _gid;
    private readonly TimeSpan _timeLimit;
    private readonly string _recipientDelimiter;
    private readonly IReadOnlyList<string> _exportEnvironment;

    public PipeTransport(MasterService service, MainConfig config)
    {
        _name = service.Name;
        _command = PipeCommand.Parse(service);
        if (UnixAccount.Find(_command.User, out string? error) is not { } account)
        {
            throw new ConfigException(service.File, service.Line, null, $"service {service.Name}: user={_command.User}: {error}");
        }
        if (account.Uid == 0)
        {
            throw new ConfigException(service.File, service.Line, null, $"service {service.Name}: user={_command.User} has root privileges");
        }
        (_uid, _gid) = account;
        string recipientLimit = service.Name + "_destination_recipient_limit";
        int limit = config.DefinitionOf(recipientLimit) is not null ? config.GetInt(recipientLimit) : config.GetInt("default_destination_recipient_limit");
        if ((_command.Has('D') || _command.Has('O')) && limit != 1)
        {
            throw new ConfigException(service.File, service.Line, null,
                $"service {service.Name}: flags D and O need one recipient per delivery: set {recipientLimit} = 1 in main.cf");
        }
        string timeLimit = service.Name + "_time_limit";
        _timeLimit = config.DefinitionOf(timeLimit) is not null ? config.GetTime(timeLimit) : config.GetTime("command_time_limit");
        _recipientDelimiter = config.Get("recipient_delimiter");
        _exportEnvironment = config.GetList("export_environment");
    }

    public string Service => "pipe";

    public async Task<IReadOnlyList<DeliveryResult>> DeliverAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        (DeliveryStatus status, string dsn, string reason) = await RunAsync(job, cancellationToken);
        // Flag X: the command is the final delivery, so a success notice says "delivered", not "relayed".
        string action = _command.Has('X') ? "delivered" : "relayed";
        return [.. job.Recipients.Select(recipient => new DeliveryResult(recipient, status, dsn, reason, _name) { SuccessAction = action })];
    }

    private async Task<(DeliveryStatus, string, string)> RunAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        if (_command.SizeLimit > 0 && job.Message.Size > _command.SizeLimit)
        {
            return (DeliveryStatus.Bounced, "5.2.3", "message too large");
        }
        if (!Environment.IsPrivilegedProcess && UnixAccount.EffectiveUid != _uid)
        {
            return (DeliveryStatus.Deferred, "4.3.0", $"cannot run \"{_command.Text}\" as user={_command.User}: Edge is not running as root");
        }
        using Process process = new() { StartInfo = StartInfo(_command.Expand(job, job.Recipients, _recipientDelimiter)) };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            return (DeliveryStatus.Deferred, "4.3.0", $"Command failed: {e.Message}: \"{_command.Text}\"");
        }
        var output = new CommandOutput(OutputLimit);
        Task reading = Task.WhenAll(output.DrainAsync(process.StandardOutput.BaseStream), output.DrainAsync(process.StandardError.BaseStream));
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeLimit);
        try
        {
            await WriteMessageAsync(job, process.StandardInput.BaseStream, deadline.Token);
            await process.WaitForExitAsync(deadline.Token);
            await reading;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            return (DeliveryStatus.Bounced, "5.3.0", $"Command time limit exceeded: \"{_command.Text}\"{output.Suffix}");
        }
        return Outcome(process.ExitCode, output.Suffix);
    }

    private (DeliveryStatus, string, string) Outcome(int exitCode, string output)
    {
        if (exitCode == 0)
        {
            return (DeliveryStatus.Sent, "2.0.0", $"delivered via {_name} service{output}");
        }
        // .NET reports a death by signal N as 128 + N, as the shell does.
        if (exitCode > 128)
        {
            return (DeliveryStatus.Deferred, "4.3.0", $"Command died with signal {exitCode - 128}: \"{_command.Text}\"{output}");
        }
        if (SysExits.Lookup(exitCode) is { } known)
        {
            return (known.Dsn[0] == '4' ? DeliveryStatus.Deferred : DeliveryStatus.Bounced, known.Dsn, known.Text + output);
        }
        return (DeliveryStatus.Bounced, "5.3.0", $"Command died with status {exitCode}: \"{_command.Text}\"{output}");
    }

    /// <summary>
    /// The message as the flags ask: From line, Return-Path, Delivered-To and X-Original-To first, LF line
    /// ends, optional ">From " and dot quoting, an optional blank line last. A command that exits without
    /// reading all of it is judged by its exit status alone, as Postfix ignores EPIPE.
    /// </summary>
    private async Task WriteMessageAsync(DeliveryJob job, Stream input, CancellationToken cancellationToken)
    {
        try
        {
            await using (input)
            {
                string sender = job.Message.Sender.Length > 0 ? job.Message.Sender : _command.NullSender;
                string recipient = job.Message.Recipients[job.Recipients[0]].Address;
                var headers = new StringBuilder();
                headers.Append(_command.Has('F') ? MboxDelivery.FromLine(sender, DateTime.Now) : "");
                headers.Append(_command.Has('R') ? $"Return-Path: <{job.Message.Sender}>\n" : "");
                headers.Append(_command.Has('D') ? $"Delivered-To: {recipient.ToLowerInvariant()}\n" : "");
                headers.Append(_command.Has('O') ? $"X-Original-To: {recipient}\n" : "");
                await input.WriteAsync(Encoding.UTF8.GetBytes(headers.ToString()), cancellationToken);
                var writer = new MailboxWriter(input, quoteFrom: _command.Has('>'), stuffDots: _command.Has('.'));
                await job.CopyContentAsync(writer, cancellationToken);
                await writer.FinishAsync(cancellationToken);
                if (_command.Has('B'))
                {
                    await input.WriteAsync(writer.EndsWithNewline ? "\n"u8.ToArray() : "\n\n"u8.ToArray(), cancellationToken);
                }
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The command, through setpriv(1) to become user= when Edge runs as root, with only export_environment.</summary>
    private ProcessStartInfo StartInfo(List<string> argv)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        if (Environment.IsPrivilegedProcess)
        {
            start.FileName = SetPriv;
            foreach (string option in (string[])[$"--reuid={_uid}", $"--regid={_gid}", $"--groups={_gid}", "--"])
            {
                start.ArgumentList.Add(option);
            }
            argv.ForEach(start.ArgumentList.Add);
        }
        else
        {
            start.FileName = argv[0];
            argv.Skip(1).ToList().ForEach(start.ArgumentList.Add);
        }
        start.Environment.Clear();
        foreach (string name in _exportEnvironment)
        {
            if (Environment.GetEnvironmentVariable(name) is { } value)
            {
                start.Environment[name] = value;
            }
        }
        return start;
    }
}
