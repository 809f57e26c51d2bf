namespace Bulwark.GameDay.Reports;

/// <summary>Every scenario of one <c>bulwark gameday</c> run, and the ones that were asked for but could not run.</summary>
internal sealed record GameDayReport
{
    public required string Store { get; init; }
    public required bool Quick { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required double DurationSeconds { get; init; }
    public required IReadOnlyList<ScenarioReport> Scenarios { get; init; }
    public IReadOnlyList<NotRun> NotRun { get; init; } = [];

    public bool Passed => Scenarios.All(s => s.Passed);
}
