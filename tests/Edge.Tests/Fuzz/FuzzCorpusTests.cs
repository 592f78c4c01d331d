using Edge.Fuzz;
using Edge.Tests.Support;

namespace Edge.Tests.Fuzz;

/// <summary>
/// Every fuzz harness over its seed corpus (fuzz/corpus/TARGET) and over every crash or hang afl++ found
/// (fuzz/crashes/TARGET): what once broke a parser is a regression test from then on.
/// </summary>
public class FuzzCorpusTests
{
    private static string FuzzDirectory => Path.Combine(Repository.Source, "..", "..", "fuzz");

    public static TheoryData<string, string> Inputs()
    {
        var inputs = new TheoryData<string, string>();
        foreach (string target in Targets.All.Keys)
        {
            foreach (string kind in new[] { "corpus", "crashes" })
            {
                string directory = Path.Combine(FuzzDirectory, kind, target);
                foreach (string file in Directory.Exists(directory) ? Directory.GetFiles(directory).Order() : Enumerable.Empty<string>())
                {
                    inputs.Add(target, Path.GetRelativePath(FuzzDirectory, file));
                }
            }
        }
        return inputs;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task The_harness_takes_the_input(string target, string file)
    {
        byte[] input = File.ReadAllBytes(Path.Combine(FuzzDirectory, file));
        // A hang afl++ found must end now: well within afl's own 5 s limit.
        await Task.Run(() => Targets.All[target](input)).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void Every_target_has_seeds()
    {
        foreach (string target in Targets.All.Keys)
        {
            Assert.True(Directory.Exists(Path.Combine(FuzzDirectory, "corpus", target)), $"fuzz/corpus/{target} is missing");
        }
    }
}
