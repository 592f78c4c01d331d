using Edge.Config;

namespace Edge.Tests.Config;

public class MainConfigLoadTests
{
    // A stock Debian 12 main.cf, as "dpkg-reconfigure postfix" writes it for an Internet site.
    const string DebianMainCf = """
        # See /usr/share/postfix/main.cf.dist for a commented, more complete version


        # Debian specific:  Specifying a file name will cause the first
        # line of that file to be used as the name.  The Debian default
        # is /etc/mailname.
        #myorigin = /etc/mailname

        smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)
        biff = no

        # appending .domain is the MUA's job.
        append_dot_mydomain = no

        # Uncomment the next line to generate "delayed mail" warnings
        #delay_warning_time = 4h

        readme_directory = no

        # See http://www.postfix.org/COMPATIBILITY_README.html -- default to 3.6 on
        # fresh installs.
        compatibility_level = 3.6



        # TLS parameters
        smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem
        smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key
        smtpd_tls_security_level=may

        smtp_tls_CApath=/etc/ssl/certs
        smtp_tls_security_level=may
        smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache


        smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
        myhostname = vm
        alias_maps = hash:/etc/aliases
        alias_database = hash:/etc/aliases
        myorigin = /etc/mailname
        mydestination = $myhostname, mail.example.org, vm, localhost.localdomain, localhost
        relayhost = 
        mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
        mailbox_size_limit = 0
        recipient_delimiter = +
        inet_interfaces = all
        inet_protocols = all

        """;

    [Fact]
    public void WithoutADirectoryTheBuiltInMainCfApplies()
    {
        var config = MainConfig.Load(null);

        Assert.Equal("built-in main.cf", config.File);
        // Postfix's default: mail for this machine is local, so postmaster and root mail stays here.
        Assert.Equal($"{config.Get("myhostname")}, localhost.{config.Get("mydomain")}, localhost", config.Get("mydestination"));
        Assert.False(config.IsSet("mydestination"));
        Assert.Equal("./var", config.Get("queue_directory"));
        Assert.Equal("127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128", config.Get("mynetworks"));
        Assert.False(config.IsSet("config_directory"));
        config.Validate();
    }

    [Fact]
    public void WithADirectoryOnlyItsMainCfAppliesOverPostfixDefaults()
    {
        using var dir = new TempConfigDir().WithMain("myhostname = mail.example.org\n");
        var config = MainConfig.Load(dir.Path);

        Assert.Equal("$myhostname, localhost.$mydomain, localhost", config.GetRaw("mydestination"));
        Assert.False(config.IsSet("mydestination"));
        Assert.Equal(dir.Path, config.Get("config_directory"));
        Assert.True(config.IsSet("config_directory"));
        Assert.Equal(dir.MainCf, config.File);
    }

    [Fact]
    public void MissingMainCfIsAnError()
    {
        using var dir = new TempConfigDir();

        var e = Assert.Throws<ConfigException>(() => MainConfig.Load(dir.Path));

        Assert.Equal($"{dir.MainCf}: cannot open file: No such file or directory", e.Message);
        Assert.Equal(0, e.Line);
    }

    [Fact]
    public void MainCfThatCannotBeReadIsAnError()
    {
        using var dir = new TempConfigDir();
        Directory.CreateDirectory(dir.MainCf);

        var e = Assert.Throws<ConfigException>(() => MainConfig.Load(dir.Path));

        Assert.Equal($"{dir.MainCf}: cannot open file: Is a directory", e.Message);
    }

    [Fact]
    public void LaterDefinitionWins()
    {
        using var dir = new TempConfigDir().WithMain("smtpd_timeout = 10s\nsmtpd_timeout = 20s\n");

        Assert.Equal(TimeSpan.FromSeconds(20), MainConfig.Load(dir.Path).GetTime("smtpd_timeout"));
    }

    [Fact]
    public void UnknownParameterIsAWarningWithFileAndLine()
    {
        using var dir = new TempConfigDir().WithMain("# x\nmyorigin = example.org\nfoo = bar\n");
        var warnings = new List<string>();

        var config = MainConfig.Load(dir.Path, warnings.Add);

        Assert.Equal([$"{dir.MainCf}, line 3: unused parameter: foo=bar"], warnings);
        Assert.Equal("bar", config.Get("foo"));
    }

    [Fact]
    public void UserParameterThatAValueUsesIsNotUnused()
    {
        using var dir = new TempConfigDir().WithMain("my_domains = a.example, b.example\nrelay_domains = $my_domains\nvirtual_maps = hash:/etc/virtual\n");
        var warnings = new List<string>();

        var config = MainConfig.Load(dir.Path, warnings.Add);

        Assert.Empty(warnings);
        Assert.Equal(["a.example", "b.example"], config.GetList("relay_domains"));
        Assert.Equal(["hash:/etc/virtual"], config.GetList("virtual_alias_maps"));
    }

    [Fact]
    public void StockDebianMainCfLoadsWithoutWarnings()
    {
        using var dir = new TempConfigDir();
        var mailname = Path.Combine(dir.Path, "mailname");
        File.WriteAllText(mailname, "mail.example.org\n");
        dir.WithMain(DebianMainCf.Replace("/etc/mailname", mailname));
        var warnings = new List<string>();

        var config = MainConfig.Load(dir.Path, warnings.Add);
        config.Validate();

        Assert.Empty(warnings);
        Assert.Equal("vm ESMTP Edge (Debian/GNU)", config.Get("smtpd_banner"));
        Assert.Equal("mail.example.org", config.Get("myorigin"));
        Assert.Equal("localdomain", config.Get("mydomain"));
        Assert.Equal(["permit_mynetworks", "permit_sasl_authenticated", "defer_unauth_destination"], config.GetList("smtpd_relay_restrictions"));
        Assert.Equal(0, config.GetLong("mailbox_size_limit"));
        Assert.Equal("btree:/var/lib/postfix/smtp_scache", config.Get("smtp_tls_session_cache_database"));
    }

    [Fact]
    public void PerTransportParametersAreKnownForMasterCfDeliveryServices()
    {
        using var dir = new TempConfigDir()
            .WithMaster("relay unix - - n - - smtp\nmaildrop unix - n n - - pipe flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\nlocal unix - n n - - local\n")
            .WithMain("relay_destination_concurrency_limit = 5\nmaildrop_destination_recipient_limit = 1\nnosuch_destination_concurrency_limit = 3\n");
        var warnings = new List<string>();

        var config = MainConfig.Load(dir.Path, warnings.Add);

        Assert.Equal([$"{dir.MainCf}, line 3: unused parameter: nosuch_destination_concurrency_limit=3"], warnings);
        Assert.Equal(5, config.GetInt("relay_destination_concurrency_limit"));
        Assert.Equal("$default_destination_recipient_limit", config.GetRaw("relay_destination_recipient_limit"));
        Assert.Equal(50, config.GetInt("relay_destination_recipient_limit"));
        Assert.Equal(TimeSpan.FromSeconds(1000), config.GetTime("maildrop_time_limit"));
        Assert.Equal(2, config.GetInt("local_destination_concurrency_limit"));
        Assert.Null(config.DefinitionOf("relay_time_limit"));
    }

    [Fact]
    public void MydomainFollowsMyhostname()
    {
        using var dir = new TempConfigDir().WithMain("myhostname = mx1.mail.example.org\n");

        Assert.Equal("mail.example.org", MainConfig.Load(dir.Path).Get("mydomain"));
    }

    [Fact]
    public void MyhostnameWithoutADotGivesLocaldomain()
    {
        using var dir = new TempConfigDir().WithMain("myhostname = box\n");

        Assert.Equal("localdomain", MainConfig.Load(dir.Path).Get("mydomain"));
    }

    [Fact]
    public void DefaultMyhostnameIsQualified()
    {
        var config = MainConfig.Load(null);

        Assert.Contains('.', config.Get("myhostname"));
        Assert.StartsWith(System.Net.Dns.GetHostName(), config.Get("myhostname"));
    }

    [Fact]
    public void MynetworksFollowsMynetworksStyle()
    {
        using var dir = new TempConfigDir().WithMain("mynetworks_style = subnet\n");

        var networks = MainConfig.Load(dir.Path).GetList("mynetworks");

        Assert.Contains("127.0.0.0/8", networks);
        Assert.Contains("[::1]/128", networks);
    }

    [Fact]
    public void MynetworksStyleClassWidensIpv4ToItsClass()
    {
        using var dir = new TempConfigDir().WithMain("mynetworks_style = class\ninet_protocols = ipv4\n");

        var networks = MainConfig.Load(dir.Path).GetList("mynetworks");

        Assert.Contains("127.0.0.0/8", networks);
        Assert.DoesNotContain(networks, n => n.StartsWith('['));
    }

    [Fact]
    public void ValidateReportsTheFirstBadValueWithFileLineAndParameter()
    {
        using var dir = new TempConfigDir().WithMain("# c\nsmtpd_banner = $myhostname\nsmtpd_timeout = abc\n");
        var config = MainConfig.Load(dir.Path);

        var e = Assert.Throws<ConfigException>(config.Validate);

        Assert.Equal($"{dir.MainCf}, line 3: parameter smtpd_timeout: bad time value \"abc\"", e.Message);
    }

    [Theory]
    [InlineData("mynetworks_style = cidr", "parameter mynetworks_style: bad value \"cidr\" (expected one of: host, subnet, class)")]
    [InlineData("smtpd_tls_security_level = always", "parameter smtpd_tls_security_level: bad value \"always\" (expected one of: (empty), none, may, encrypt)")]
    [InlineData("smtpd_helo_required = maybe", "parameter smtpd_helo_required: bad boolean value \"maybe\" (expected yes or no)")]
    [InlineData("smtpd_client_restrictions = inline:{ a=b", "parameter smtpd_client_restrictions: missing '}' in \"inline:{ a=b\"")]
    [InlineData("inet_protocols = ipv5", "parameter inet_protocols: bad value \"ipv5\" (expected all, ipv4 or ipv6)")]
    [InlineData("myorigin = ${oops", "parameter myorigin: truncated macro reference in \"${oops\"")]
    public void ValidateChecksEveryKind(string line, string reason)
    {
        using var dir = new TempConfigDir().WithMain(line + "\n");

        var e = Assert.Throws<ConfigException>(MainConfig.Load(dir.Path).Validate);

        Assert.Equal($"{dir.MainCf}, line 1: {reason}", e.Message);
    }

    [Fact]
    public void ValidateAcceptsChoicesInAnyCase()
    {
        using var dir = new TempConfigDir().WithMain("smtpd_tls_security_level = MAY\nsmtpd_forbid_bare_newline = reject\n");

        MainConfig.Load(dir.Path).Validate();
    }

    [Fact]
    public void OverridesWinAndAreSet()
    {
        using var dir = new TempConfigDir().WithMain("smtpd_helo_required = no\n");
        var main = MainConfig.Load(dir.Path);

        var service = main.WithOverrides([new("smtpd_helo_required", "yes"), new("syslog_name", "postfix/submission")], "/x/master.cf", 12);

        Assert.True(service.GetBool("smtpd_helo_required"));
        Assert.False(main.GetBool("smtpd_helo_required"));
        Assert.True(service.IsSet("syslog_name"));
        Assert.Contains(("syslog_name", "postfix/submission"), service.NonDefault());
    }

    [Fact]
    public void NonDefaultListsSetParametersThatAreUsed()
    {
        using var dir = new TempConfigDir().WithMain("myorigin = $foo\nfoo = bar\nbaz = 1\n");

        Assert.Equal(
            [("config_directory", dir.Path), ("foo", "bar"), ("myorigin", "$foo")],
            MainConfig.Load(dir.Path).NonDefault());
    }

    [Fact]
    public void DefaultsIgnoreMainCf()
    {
        using var dir = new TempConfigDir().WithMain("myhostname = mail.example.org\nmynetworks_style = subnet\n");

        var defaults = MainConfig.Load(dir.Path).Defaults().ToDictionary(d => d.Name, d => d.RawValue);

        Assert.Equal("$myhostname, localhost.$mydomain, localhost", defaults["mydestination"]);
        Assert.Equal("127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128", defaults["mynetworks"]);
        Assert.NotEqual("mail.example.org", defaults["myhostname"]);
        Assert.Equal("/etc/postfix", defaults["config_directory"]);
    }
}
