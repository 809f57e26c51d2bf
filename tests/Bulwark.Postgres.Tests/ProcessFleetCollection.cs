using Xunit;

namespace Bulwark.Postgres.Tests;

/// <summary>The tests that start fleets of real processes run one class at a time: the machine has few cores, and timing promises (reclaim within 15 s) should measure Bulwark, not a crowded CPU.</summary>
[CollectionDefinition(Name)]
public sealed class ProcessFleetCollection
{
    public const string Name = "bulwark processes";
}
