namespace Edge.Tests.Support;

/// <summary>
/// Tests that keep both cores busy for many seconds (100,000 messages through a real server) run alone,
/// after the others: alongside, they would starve the time limits of other tests and be slowed by them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MachineWideCollection
{
    public const string Name = "machine-wide load";
}
