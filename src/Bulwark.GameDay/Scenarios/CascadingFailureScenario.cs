using Bulwark.GameDay.Processes;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>14 cascading-failure: kill 50 %, then 100 % of the workers, then start them again.</summary>
internal sealed class CascadingFailureScenario : IScenario
{
    private static readonly string[] Names = ["w1", "w2", "w3", "w4"];

    public string Name => "cascading-failure";

    public string Injected => "kill -9 of half the workers under load, then of the other half; then all four started again";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        var jobs = d.Quick ? 400 : 4000;
        await d.StartServerAsync(cancellationToken);
        var workers = Names.Select(n => d.StartWorker(n, 4)).ToArray();
        foreach (var w in workers)
        {
            await d.WaitForWorkerAsync(w, cancellationToken);
        }

        var load = d.NewLoad();
        d.Mark("steady load", $"{jobs} demo.append jobs at 50/s over 4 workers × 4 slots");
        var loading = load.RunAsync(jobs, 50, cancellationToken);
        await d.WaitUntilAsync(_ => Task.FromResult(load.Acks.Count > jobs / 5), TimeSpan.FromSeconds(30), cancellationToken);
        workers[0].KillHard();
        workers[1].KillHard();
        d.Inject("kill -9 of w1 and w2 (50 %)");
        var half = d.Time.GetUtcNow();
        await FleetWatch.WatchReclaimAsync(d, ["w1", "w2"], TimeSpan.FromSeconds(20), cancellationToken);
        await d.WaitUntilAsync(_ => Task.FromResult(load.Acks.Count > jobs / 2), TimeSpan.FromSeconds(30), cancellationToken);
        workers[2].KillHard();
        workers[3].KillHard();
        var none = d.Time.GetUtcNow();
        d.Mark("all workers down", "kill -9 of w3 and w4 (100 %)");
        await d.WaitUntilAsync(_ => Task.FromResult(load.Acks.Count > jobs * 3 / 4), TimeSpan.FromSeconds(30), cancellationToken);
        var counts = await d.Api.QueueCountsAsync(Deployment.Queue, cancellationToken);

        // From the moment they are started: on a busy machine the first worker up may drain the backlog before the last registers.
        var back = d.Time.GetUtcNow();
        var restarted = Names.Select(n => d.StartWorker(n, 4)).ToArray();
        foreach (var w in restarted)
        {
            await d.WaitForWorkerAsync(w, cancellationToken);
        }

        d.Restored("workers back", $"w1–w4 started again; backlog {counts.GetValueOrDefault("ready")} ready, {counts.GetValueOrDefault("running")} running under dead leases");
        await loading;
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(d.Quick ? 60 : 180), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var m = await d.MeasureAsync(load, cancellationToken);
        var completed = m.Jobs.Where(j => j.State == "completed" && j.FinishedAt is not null).ToArray();
        double Rate(DateTimeOffset from, DateTimeOffset to) => completed.Count(j => j.FinishedAt >= from && j.FinishedAt < to) / Math.Max(0.1, (to - from).TotalSeconds);
        var before = Rate(m.Jobs.Min(j => j.CreatedAt), half);
        var withHalf = Rate(half, none);
        var afterBack = completed.Count(j => j.FinishedAt >= back);
        var ackedWhileDown = load.Acks.Count(a => a.At >= none && a.At < back);
        return new ScenarioResult(m.Impact,
        [
            Check.That("with 50 % the rest carry the load", withHalf > 0,
                $"{before:0.0} jobs/s with 4 workers, {withHalf:0.0} jobs/s with 2"),
            Check.That("with 100 % nothing is lost", m.Tally.LostIds.Count == 0, $"{ackedWhileDown} enqueues acknowledged while no worker was up; {m.Impact.Acknowledged} acknowledged in all, {m.Tally.LostIds.Count} lost"),
            Check.That("work resumes when workers return", settled && afterBack > 0, $"{afterBack} jobs completed after the workers returned; queue settled: {settled}"),
            Promises.NoneLost(m),
            await Promises.DuplicatesOnlyFromCrashesAsync(m, d.Api, Names, cancellationToken),
        ]);
    }
}
