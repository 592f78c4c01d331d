using Edge.Cli;
using Edge.Tests.Support;

namespace Edge.Tests.Tables;

/// <summary>edge postmap, postalias and newaliases: lookups as Postfix's -q answers them, and files checked as Edge reads them.</summary>
public class PostmapCommandTests
{
    private static (int Exit, string Out, string Error) Run(string program, TempDirectory config, string stdin, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = PostmapCommand.Run(program, ["-c", config.Path, .. args], new StringReader(stdin), stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static TempDirectory Config()
    {
        var config = new TempDirectory();
        config.Write("main.cf", "");
        config.Write("access", "example.com OK\nspam.example REJECT go away\n");
        config.Write("more", "other.example DUNNO\nexample.com REJECT never asked\n");
        return config;
    }

    [Fact]
    public void A_key_is_looked_up_in_the_maps_in_order_and_a_miss_exits_1()
    {
        using TempDirectory config = Config();
        // A map without a type is default_database_type's (hash), read from its source file.
        Assert.Equal((0, "OK\n", ""), Run("postmap", config, "", "-q", "EXAMPLE.com", config.File("access"), $"texthash:{config.File("more")}"));
        Assert.Equal((0, "DUNNO\n", ""), Run("postmap", config, "", "-q", "other.example", config.File("access"), $"texthash:{config.File("more")}"));
        Assert.Equal((1, "", ""), Run("postmap", config, "", "-q", "nothing.example", $"hash:{config.File("access")}"));
    }

    [Fact]
    public void Keys_on_standard_input_print_key_and_value_for_each_found()
    {
        using TempDirectory config = Config();
        Assert.Equal((0, "spam.example\tREJECT go away\nexample.com\tOK\n", ""),
            Run("postmap", config, "spam.example\nnone.example\nexample.com\n", "-q", "-", config.File("access")));
        Assert.Equal((1, "", ""), Run("postmap", config, "none.example\n", "-q", "-", config.File("access")));
    }

    [Fact]
    public void A_file_is_checked_as_edge_reads_it_and_an_error_names_file_and_line()
    {
        using TempDirectory config = Config();
        Assert.Equal((0, "", ""), Run("postmap", config, "", config.File("access")));
        config.Write("bad.regexp", "/^bad/ REJECT\n/(/ REJECT\n");
        (int exit, string output, string error) = Run("postmap", config, "", $"regexp:{config.File("bad.regexp")}");
        Assert.Equal(1, exit);
        Assert.Equal("", output);
        Assert.StartsWith($"postmap: fatal: regexp:{config.File("bad.regexp")}: {config.File("bad.regexp")}, line 2: bad regular expression \"(\"", error);
        Assert.StartsWith("postmap: fatal: option -N is not supported by Edge", Run("postmap", config, "", "-N", config.File("access")).Error);
    }

    [Fact]
    public void Postalias_reads_aliases_and_newaliases_checks_alias_database()
    {
        using TempDirectory config = Config();
        config.Write("aliases", "postmaster: root\nabuse: root, admin\n");
        Assert.Equal((0, "root, admin\n", ""), Run("postalias", config, "", "-q", "abuse", config.File("aliases")));
        config.Write("main.cf", $"alias_database = hash:{config.File("aliases")}\n");
        Assert.Equal((0, "", ""), Run("newaliases", config, ""));
        config.Write("aliases", "postmaster root\n");
        Assert.Equal((1, "", $"newaliases: fatal: hash:{config.File("aliases")}: {config.File("aliases")}, line 1: expected \"name: value\", found \"postmaster root\"\n"),
            Run("newaliases", config, ""));
    }
}
