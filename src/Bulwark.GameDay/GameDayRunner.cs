using Bulwark.GameDay.Reports;
using Bulwark.GameDay.Scenarios;

namespace Bulwark.GameDay;

/// <summary>Runs the chosen scenarios one after another, each on a fresh deployment, and gathers their reports.</summary>
internal sealed class GameDayRunner(GameDayOptions options, TimeProvider time)
{
    public async Task<GameDayReport> RunAsync(IReadOnlyList<IScenario> scenarios, IReadOnlyList<NotRun> notRun, CancellationToken cancellationToken)
    {
        var started = time.GetUtcNow();
        var reports = new List<ScenarioReport>();
        foreach (var scenario in scenarios)
        {
            reports.Add(await RunOneAsync(scenario, cancellationToken));
        }

        return new GameDayReport
        {
            Store = options.Postgres is not null ? "PostgreSQL (a fresh database per scenario)"
                : options.StorePrefix is null ? "SQLite (a fresh file per scenario)" : $"SQLite {options.StorePrefix}.<scenario>.db",
            Quick = options.Quick,
            StartedAt = started,
            DurationSeconds = Math.Round((time.GetUtcNow() - started).TotalSeconds, 1),
            Scenarios = reports,
            NotRun = notRun,
        };
    }

    private async Task<ScenarioReport> RunOneAsync(IScenario scenario, CancellationToken cancellationToken)
    {
        var deployment = new Deployment(options, scenario.Name, time);
        await using (deployment)
        {
            deployment.Progress($"starting: {scenario.Injected}");
            ScenarioResult result;
            try
            {
                await deployment.PrepareStoreAsync(cancellationToken);
                result = await scenario.RunAsync(deployment, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A scenario that cannot finish is a failed game day, reported with the reason, never a crash of the harness.
                result = new ScenarioResult(new Impact(), [Check.That("the scenario ran to the end", false, $"{ex.GetType().Name}: {ex.Message}")]);
            }

            var report = new ScenarioReport
            {
                Name = scenario.Name,
                Injected = scenario.Injected,
                StartedAt = deployment.StartedAt,
                DurationSeconds = Math.Round((time.GetUtcNow() - deployment.StartedAt).TotalSeconds, 1),
                Timeline = deployment.Timeline(),
                Impact = result.Impact,
                Checks = result.Checks,
                Notes = result.Notes ?? [],
                Artifacts = deployment.Directory,
            };
            foreach (var check in report.Checks)
            {
                deployment.Progress($"{(check.Passed ? "pass" : "FAIL")}: {check.Line} — {check.Evidence}");
            }

            deployment.Progress(report.Passed ? "PASSED" : "FAILED");
            return report;
        }
    }
}
