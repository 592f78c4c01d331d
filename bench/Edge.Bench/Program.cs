using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Edge.Bench -- --filter '*'   (see perf/RESULTS.md for the figures)
BenchmarkSwitcher.FromAssembly(typeof(Edge.Bench.CommandParserBenchmarks).Assembly).Run(args);
