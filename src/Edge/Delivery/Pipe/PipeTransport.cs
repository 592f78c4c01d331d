using System.Runtime.Versioning;
using System.Text;
using Edge.Config;
using Edge.Delivery.Virtual;
using Edge.Queue;
using Edge.Unix;

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
    private readonly string _name;
    private readonly PipeCommand _command;
    private readonly uint _uid;
    private readonly uint _gid;
    private readonly TimeSpan _timeLimit;
    private readonly string _recipientDelimiter;
    private readonly IReadOnlyDictionary<string, string> _environment;

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
        _environment = ImportedEnvironment.Exported(config);
    }

    public string Service => "pipe";

    public async Task<IReadOnlyList<DeliveryResult>> DeliverAsync(DeliveryJob job, CancellationToken cancellationToken)
    {
        (DeliveryStatus status, string dsn, string reason) = _command.SizeLimit > 0 && job.Message.Size > _command.SizeLimit
            ? (DeliveryStatus.Bounced, "5.2.3", "message too large")
            : await CommandRunner.RunAsync(_command.Expand(job, job.Recipients, _recipientDelimiter), _command.Text, (_uid, _gid),
                _environment, "/", _timeLimit, (input, token) => WriteMessageAsync(job, input, token), $"delivered via {_name} service", cancellationToken);
        // Flag X: the command is the final delivery, so a success notice says "delivered", not "relayed".
        string action = _command.Has('X') ? "delivered" : "relayed";
        return [.. job.Recipients.Select(recipient => new DeliveryResult(recipient, status, dsn, reason, _name) { SuccessAction = action })];
    }

    /// <summary>
    /// The message as the flags ask: From line, Return-Path, Delivered-To and X-Original-To first, LF line
    /// ends, optional ">From " and dot quoting, an optional blank line last.
    /// </summary>
    private async Task WriteMessageAsync(DeliveryJob job, Stream input, CancellationToken cancellationToken)
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
