using Edge.Fuzz;
using SharpFuzz;

// edge-fuzz TARGET: one afl++ target, fed by SharpFuzz (fuzz/run.sh starts it);
// edge-fuzz TARGET FILE...: runs the target once on each file, as the replay test does, to reproduce a finding
// (with a build that is not instrumented: dotnet run --project fuzz/Edge.Fuzz -c Release -- TARGET FILE).
if (args.Length == 0 || !Targets.All.TryGetValue(args[0], out Action<byte[]>? target))
{
    Console.Error.WriteLine($"usage: edge-fuzz TARGET [FILE...]; targets: {string.Join(", ", Targets.All.Keys)}");
    return 2;
}
if (args.Length > 1)
{
    foreach (string file in args[1..])
    {
        target(File.ReadAllBytes(file));
        Console.WriteLine($"{file}: ok");
    }
    return 0;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var input = new MemoryStream();
    stream.CopyTo(input);
    target(input.ToArray());
});
return 0;
