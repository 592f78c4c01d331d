using Edge.Cli;
using Edge.Config;
using Edge.Logging;
using Edge.Queue;

const string Usage = """
    usage: edge COMMAND [-c DIR] [options]
      run                 start the server (embedded default configuration without -c)
      postconf [-d|-n] [name ...] | -e name=value ... | -X name ... | -# name ... | -m | -a | -l
      postmap [-q KEY|-] [type:]file ...   look keys up, or check the files (also: postalias, newaliases)
      postqueue -p|-j|-f  list the queue (also: mailq), as JSON, or flush it
      postsuper -d|-h|-H|-r ID|ALL   delete, hold, release, requeue
      postcat -q ID       show a queued message
      qshape [-s]         the queue by recipient (or sender) domain and age
      reload              make the running server re-read its configuration
      postfix start|stop|status|reload|check|flush|logrotate   as Postfix's postfix(1); start needs maillog_file
      postlog [-p priority] [-t tag] [text ...]      a line in the mail log
      sendmail [-t] [-i] [-f sender] [-F name] [recipient ...]   a message from standard input, through pickup
      check               check the configuration, its tables and policies, without starting
      policy test FILE [--stage NAME] [--message FILE] name=value ...
                          one call of a policy script: its action, then its log lines
      source [options] HOST:PORT   a load generator (as smtp-source): edge source --help
      sink [options] ADDRESS:PORT  a receiving server for load tests (as smtp-sink): edge sink --help
    """;

if (args.Length == 0)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

string command = args[0];
string[] rest = args[1..];
if (command != "run")
{
    // The tools' own log lines (postsuper's "removed" …) go to standard error; standard output is their answer.
    MailLog.Configure(System.Net.Dns.GetHostName(), Console.Error);
}
try
{
    return command switch
    {
        "run" => await RunCommand.RunAsync(CommandLine.Parse(rest)),
        "postconf" => PostconfCommand.Run(rest, Console.Out, Console.Error),
        "postmap" or "postalias" or "newaliases" => PostmapCommand.Run(command, rest, Console.In, Console.Out, Console.Error),
        "postqueue" => await AdminCommands.PostqueueAsync(CommandLine.Parse(rest, "-s"), Console.Error),
        "mailq" => await AdminCommands.PostqueueAsync(CommandLine.Parse([.. rest, "-p"]), Console.Error),
        "postcat" => await AdminCommands.PostcatAsync(CommandLine.Parse(rest, "-q"), Console.Error),
        "reload" => await AdminCommands.ReloadAsync(CommandLine.Parse(rest), Console.Error),
        "postlog" => await PostlogCommand.RunAsync(CommandLine.Parse(rest, "-p", "-t"), Console.In, Console.Error),
        "sendmail" => await SendmailCommand.RunAsync(rest, Console.OpenStandardInput(), Console.Error),
        "postfix" => await PostfixCommand.RunAsync(CommandLine.Parse(rest), Console.Error),
        "check" => await CheckCommand.RunAsync(CommandLine.Parse(rest), Console.Error),
        "policy" => await PolicyCommand.RunAsync(rest, Console.Out, Console.Error),
        "source" when rest.Contains("--help") => Help(Edge.Load.SourceOptions.Usage),
        "source" => await SourceCommand.RunAsync(rest),
        "sink" when rest.Contains("--help") => Help(Edge.Load.SinkOptions.Usage),
        "sink" => await SinkCommand.RunAsync(rest),
        "qshape" => await AdminCommands.QshapeAsync(CommandLine.Parse(rest), Console.Error),
        "postsuper" => await AdminCommands.PostsuperAsync(CommandLine.Parse(rest, "-d", "-h", "-H", "-r"), Console.Error),
        _ => throw new UsageException($"unknown command \"{command}\"\n{Usage}"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"edge {command}: {e.Message}");
    return 2;
}
catch (Exception e) when (e is ConfigException or QueueInUseException or IOException or UnauthorizedAccessException
                               or System.Net.Sockets.SocketException)
{
    // Configuration and queue problems are the administrator's to fix: say what, never a stack trace.
    Console.Error.WriteLine($"edge {command}: fatal: {e.Message}");
    return 1;
}
finally
{
    await MailLog.FlushAsync();
}

static int Help(string usage)
{
    Console.Out.WriteLine(usage);
    return 0;
}
