namespace Bulwark.GameDay.Reports;

/// <summary>The post-incident report of one scenario run.</summary>
internal sealed record ScenarioReport
{
    public required string Name { get; init; }
    public required string Injected { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required double DurationSeconds { get; init; }
    public required IReadOnlyList<TimelineEntry> Timeline { get; init; }
    public required Impact Impact { get; init; }
    public required IReadOnlyList<Check> Checks { get; init; }
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>Where the process logs and the append file of this run are kept.</summary>
    public string? Artifacts { get; init; }

    public bool Passed => Checks.Count > 0 && Checks.All(c => c.Passed);
}
