using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>The scenarios of SCENARIOS.md in table order: those the game day runs, and those it cannot run yet with the reason.</summary>
internal static class ScenarioCatalog
{
    public static IReadOnlyList<IScenario> Runnable { get; } =
    [
        new WorkerCrashScenario(),
    ];

    public static IReadOnlyList<NotRun> Missing { get; } =
    [
    ];

    public static IReadOnlyList<string> Names => [.. Runnable.Select(s => s.Name), .. Missing.Select(m => m.Name)];
}
