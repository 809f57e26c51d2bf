namespace Bulwark.GameDay.Scenarios;

/// <summary>One runbook failure (SCENARIOS.md), run for real against a <see cref="Deployment"/>.</summary>
internal interface IScenario
{
    string Name { get; }

    /// <summary>What the scenario does to the system, for the report.</summary>
    string Injected { get; }

    Task<ScenarioResult> RunAsync(Deployment deployment, CancellationToken cancellationToken);

    /// <summary>Why the scenario cannot run on this machine (for example it needs root to mount a small disk); null when it can.</summary>
    string? WhyCannotRun() => null;

    /// <summary>Whether the scenario also runs on PostgreSQL (SCENARIOS.md: 1, 2, 5, 7, 12, 13, 15 and 16).</summary>
    bool RunsOnPostgres => false;
}
