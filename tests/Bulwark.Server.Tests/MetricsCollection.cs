namespace Bulwark.Server.Tests;

/// <summary>
/// Runs metric scrapes alone: every host's OpenTelemetry provider listens to every meter named "Bulwark" in the process,
/// so a host started in parallel could claim the instruments a scrape is looking for.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsCollection
{
    public const string Name = "metrics";
}
