using System.Runtime.Versioning;
using Edge.Queue;
using System.Text;
using Edge.Delivery.Pipe;
using Edge.Delivery.Virtual;
using Edge.Unix;

namespace Edge.Delivery.Local;

/// <summary>
/// local(8)'s delivery to a command ("|command" in an alias, .forward or :include: file, or mailbox_command): run
/// with the rights it is given, in command_execution_directory (or the queue directory), directly when it has no
/// shell syntax and names a path, through /bin/sh -c (or local_command_shell) otherwise, with the recipient's
/// attributes in its environment (HOME, USER, LOGNAME, SHELL, SENDER, RECIPIENT, LOCAL, DOMAIN, EXTENSION,
/// ORIGINAL_RECIPIENT, CLIENT_*) filtered by command_expansion_filter. It reads a "From " line, Return-Path,
/// X-Original-To and Delivered-To, then the message with LF line ends.
/// </summary>
[UnsupportedOSPlatform("windows")]
internal static class CommandDestination
{
    /// <summary>Characters that let a command run without a shell (Postfix's exec_command()).</summary>
    private const string Plain = "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ \t";

    public static async Task<(DeliveryStatus Status, string Dsn, string Reason)> DeliverAsync(LocalSettings settings, DeliveryJob job,
        int recipient, LocalRecipient to, string command, UnixUser rights, string delivered, CancellationToken cancellationToken)
    {
        List<string> argv = Argv(settings.Shell, command);
        if (settings.MailboxSizeLimit > 0)
        {
            // mailbox_size_limit covers the files a command writes too: Postfix's local(8) runs them under that file size limit.
            argv = ["/usr/bin/prlimit", $"--fsize={settings.MailboxSizeLimit}", "--", .. argv];
        }
        if (settings.ExecutionDirectory.Length > 0)
        {
            // Entered with the command's rights, not Edge's, as Postfix changes directory after dropping privileges; a
            // directory those rights cannot enter defers the recipient (EX_TEMPFAIL), as Postfix defers it.
            string directory = LocalExpansion.Expand(settings.ExecutionDirectory, to.Attributes(rights), settings.DirectoryFilter);
            argv = ["/bin/sh", "-c", "cd -- \"$0\" || exit 75; exec \"$@\"", directory, .. argv];
        }
        return await CommandRunner.RunAsync(argv, command, (rights.Uid, rights.Gid),
            Environment(settings, job, recipient, to, rights), settings.QueueDirectory, settings.TimeLimit,
            (input, token) => WriteAsync(settings, job, recipient, delivered, input, token), $"delivered to command: {command}", cancellationToken);
    }

    private static List<string> Argv(string shell, string command)
    {
        if (shell.Length > 0)
        {
            return [.. shell.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries), command];
        }
        string[] words = command.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        // A plain command naming a path runs directly; anything else (shell syntax, a built-in, a name found on PATH) through sh.
        return words.Length > 0 && command.All(Plain.Contains) && words[0].Contains('/') ? [.. words] : ["/bin/sh", "-c", command];
    }

    private static Dictionary<string, string> Environment(LocalSettings settings, DeliveryJob job, int recipient, LocalRecipient to, UnixUser rights)
    {
        var message = job.Message;
        var environment = new Dictionary<string, string>(settings.Environment, StringComparer.Ordinal);
        var values = new (string Name, string Value)[]
        {
            ("HOME", rights.Home), ("LOGNAME", to.User), ("USER", to.User), ("SENDER", message.Sender), ("RECIPIENT", to.Address),
            ("LOCAL", to.Local), ("SHELL", rights.Shell), ("DOMAIN", to.Domain), ("EXTENSION", to.Extension),
            ("ORIGINAL_RECIPIENT", message.Recipients[recipient].Original), ("CLIENT_HOSTNAME", message.ClientName),
            ("CLIENT_ADDRESS", message.ClientAddress), ("CLIENT_HELO", message.Helo), ("CLIENT_PROTOCOL", message.Protocol),
        };
        foreach ((string name, string value) in values)
        {
            // Postfix passes the sender, recipient, user and local part even when empty, the rest only when set.
            if (value.Length > 0 || name is "SENDER" or "RECIPIENT" or "LOCAL" or "USER" or "LOGNAME")
            {
                environment[name] = string.Concat(value.Select(c => settings.CommandFilter.Contains(c) ? c : '_'));
            }
        }
        return environment;
    }

    private static async Task WriteAsync(LocalSettings settings, DeliveryJob job, int recipient, string delivered, Stream input, CancellationToken cancellationToken)
    {
        var message = job.Message;
        var headers = new StringBuilder(MboxDelivery.FromLine(message.Sender, DateTime.Now))
            .Append($"Return-Path: <{message.Sender}>\n")
            .Append($"X-Original-To: {message.Recipients[recipient].Original}\n")
            .Append(settings.DeliveredHeader.Command ? $"Delivered-To: {delivered}\n" : "");
        await input.WriteAsync(Encoding.UTF8.GetBytes(headers.ToString()), cancellationToken);
        var writer = new MailboxWriter(input, quoteFrom: false);
        await job.CopyContentAsync(writer, cancellationToken);
        await writer.FinishAsync(cancellationToken);
    }
}
