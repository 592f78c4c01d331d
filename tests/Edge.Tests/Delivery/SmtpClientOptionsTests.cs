using Edge.Config;
using Edge.Delivery.Smtp;
using Edge.Tests.Support;

namespace Edge.Tests.Delivery;

/// <summary>The smtp and lmtp transports' options from main.cf.</summary>
public class SmtpClientOptionsTests
{
    private static SmtpClientOptions Options(MainConfig config, bool lmtp) =>
        SmtpClientOptions.FromConfig(config, lmtp, Hosting.SmtpdSettingsFactory.Classifier(config));

    private static MainConfig Load(TempDirectory directory, string mainCf)
    {
        directory.Write("main.cf", mainCf);
        return MainConfig.Load(directory.Path);
    }

    [Fact]
    public void Defaults_are_postfixs()
    {
        using var directory = new TempDirectory();
        var options = Options(Load(directory, "myhostname = out.example.org\n"), lmtp: false);

        Assert.False(options.Lmtp);
        Assert.Equal("out.example.org", options.HeloName);
        Assert.Equal(SmtpTlsLevel.None, options.TlsLevel);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(300), options.HeloTimeout);
        Assert.Equal(TimeSpan.FromSeconds(120), options.DataInitTimeout);
        Assert.Equal(TimeSpan.FromSeconds(180), options.DataXferTimeout);
        Assert.Equal(TimeSpan.FromSeconds(600), options.DataDoneTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ConnectionCacheTimeLimit);
    }

    [Fact]
    public void Main_cf_settings_apply()
    {
        using var directory = new TempDirectory();
        var options = Options(Load(directory, """
            smtp_helo_name = helo.example.org
            smtp_tls_security_level = may
            smtp_connect_timeout = 5s
            smtp_data_done_timeout = 2m
            smtp_connection_cache_time_limit = 10s
            """), lmtp: false);

        Assert.Equal("helo.example.org", options.HeloName);
        Assert.Equal(SmtpTlsLevel.May, options.TlsLevel);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), options.DataDoneTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), options.ConnectionCacheTimeLimit);
    }

    [Fact]
    public void Lmtp_takes_its_own_parameters_where_edge_knows_them()
    {
        using var directory = new TempDirectory();
        var options = Options(Load(directory, "smtp_tls_security_level = encrypt\nsmtp_connect_timeout = 5s\n"), lmtp: true);

        Assert.True(options.Lmtp);
        Assert.Equal(SmtpTlsLevel.None, options.TlsLevel);
        // lmtp_connect_timeout = 0s: no limit, as in Postfix.
        Assert.Equal(TimeSpan.Zero, options.ConnectTimeout);
    }

    [Fact]
    public void The_obsolete_tls_booleans_still_count()
    {
        using var directory = new TempDirectory();
        Assert.Equal(SmtpTlsLevel.Encrypt, Options(Load(directory, "smtp_enforce_tls = yes\n"), lmtp: false).TlsLevel);
        Assert.Equal(SmtpTlsLevel.May, Options(Load(directory, "smtp_use_tls = yes\n"), lmtp: false).TlsLevel);
    }

    [Fact]
    public void A_verifying_tls_level_is_refused_rather_than_downgraded()
    {
        using var directory = new TempDirectory();
        var error = Assert.Throws<ConfigException>(() => Options(Load(directory, "smtp_tls_security_level = secure\n"), lmtp: false));
        Assert.Contains("smtp_tls_security_level", error.Message);
    }
}
