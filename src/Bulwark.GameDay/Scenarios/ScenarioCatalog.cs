using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>The scenarios of SCENARIOS.md in table order: those the game day runs (some only in part; their reports say which line was not checked), and those it cannot run yet with the reason.</summary>
internal static class ScenarioCatalog
{
    public static IReadOnlyList<IScenario> Runnable { get; } =
    [
        new WorkerCrashScenario(),
        new PowerLossScenario(),
        new StorageFailureScenario(),
        new StuckJobScenario(),
        new OverloadScenario(),
        new DependencyDeadlockScenario(),
        new GracefulRestartScenario(),
        new ResourceExhaustionScenario(),
        new ExternalOutageScenario(),
        new MalformedPayloadScenario(),
        new HandlerPanicScenario(),
        new ClockSkewScenario(),
        new PoisonJobScenario(),
        new CascadingFailureScenario(),
        new RollingRestartScenario(),
        new Chaos.ChaosScenario(),
    ];

    public static IReadOnlyList<NotRun> Missing { get; } = [];

    public static IReadOnlyList<string> Names => [.. Runnable.Select(s => s.Name), .. Missing.Select(m => m.Name)];
}
