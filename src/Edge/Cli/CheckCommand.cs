using Edge.Config;
using Edge.Delivery.Smtp;
using Edge.Hosting;
using Edge.Restrictions.Policy.Store;
using Edge.Restrictions.Verify;
using Edge.Logging;

namespace Edge.Cli;

/// <summary>
/// edge check [-c DIR]: Postfix's "postfix check", for Edge's configuration. Loads main.cf, master.cf, every table
/// and policy script the listeners and the delivery side name, as start-up would, without listening or opening
/// the queue; prints every warning and the error that stops start-up, with file and line, and the lints of
/// <see cref="ConfigurationLint"/>. Exits 1 when start-up would fail.
/// </summary>
internal static class CheckCommand
{
    public static async Task<int> RunAsync(CommandLine line, TextWriter error)
    {
        var warnings = new List<string>();
        var refusals = new List<ConfigException>();
        try
        {
            await using var stores = new PolicyStores(openFaster: false);
            var (main, master, _) = EdgeServer.LoadConfiguration(line.ConfigDirectory, stores, new AddressVerifier(), warnings.Add,
                refused: refusals.Add);
            await using (var smtp = new SmtpDeliveryAgent())
            {
                DeliveryFactory.Settings(main, master, smtp);
            }
            ConfigurationLint.Run(main, master, warnings.Add);
        }
        catch (ConfigException e)
        {
            refusals.Add(e);
        }
        // The mail log writes to standard error too (tables that warn as they open): its lines first, whole.
        await MailLog.FlushAsync();
        foreach (string warning in warnings)
        {
            await error.WriteLineAsync($"edge check: warning: {warning}");
        }
        foreach (ConfigException refusal in refusals)
        {
            await error.WriteLineAsync($"edge check: fatal: {refusal.Message}");
        }
        return refusals.Count > 0 ? 1 : 0;
    }
}
