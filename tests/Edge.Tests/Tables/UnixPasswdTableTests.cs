using Edge.Tables;
using Edge.Tests.Support;

namespace Edge.Tests.Tables;

public class UnixPasswdTableTests
{
    [Fact]
    public void Finds_system_users_by_name_with_their_passwd_line()
    {
        ILookupTable table = TableFactory.Open("proxy:unix:passwd.byname", DefaultTableSettings.Value, out string? error)!;
        Assert.Null(error);
        Assert.StartsWith("root:", table.Lookup("root"));
        Assert.Matches("^root:[^:]*:0:0:[^:]*:/root:/", table.Lookup("root"));
        Assert.Null(table.Lookup("no-such-user-here"));
        Assert.Null(table.Lookup("root@example.org"));
    }

    [Fact]
    public void Other_unix_tables_are_refused_with_a_reason()
    {
        Assert.Null(TableFactory.Open("unix:group.byname", DefaultTableSettings.Value, out string? error));
        Assert.Contains("unix:passwd.byname", error);
    }
}
