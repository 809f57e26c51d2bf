using Bulwark.GameDay.Processes;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>1 worker-crash: three workers under steady load; <c>kill -9</c> one while it runs jobs.</summary>
internal sealed class WorkerCrashScenario : IScenario
{
    public string Name => "worker-crash";

    public bool RunsOnPostgres => true;

    public string Injected => "SIGKILL (kill -9) of one of three worker processes while it runs jobs, under steady load";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        var jobs = d.Quick ? 300 : 3000;
        var rate = d.Quick ? 60 : 100;
        await d.StartServerAsync(cancellationToken);
        var workers = new[] { "w1", "w2", "w3" }.Select(n => d.StartWorker(n, 8)).ToArray();
        foreach (var w in workers)
        {
            await d.WaitForWorkerAsync(w, cancellationToken);
        }

        d.Mark("steady load", $"{jobs} demo.append jobs at {rate}/s and 9 demo.sleep(1500ms) jobs over 3 workers × 8 slots");
        var load = d.NewLoad();
        var loading = load.RunAsync(jobs, rate, cancellationToken);
        var sleepers = await FleetWatch.EnqueueSleepersAsync(d.Api, 9, 1500, cancellationToken);

        var victim = workers[0];
        var inFlight = (IReadOnlyList<Api.JobRow>)[];
        await d.WaitUntilAsync(async ct => (inFlight = await FleetWatch.RunningUnderAsync(d.Api, victim.Name, ct)).Count > 0 && load.Acks.Count > jobs / 4, TimeSpan.FromSeconds(30), cancellationToken);
        victim.KillHard();
        d.Inject($"kill -9 {victim.Name} (pid {victim.ProcessId}) with {inFlight.Count} job(s) leased (ids {Promises.Ids([.. inFlight.Select(j => j.Id)])})");

        var (detected, reclaimed) = await FleetWatch.WatchReclaimAsync(d, [victim.Name], TimeSpan.FromSeconds(30), cancellationToken);
        await loading;
        d.Mark("load finished", $"{load.Acks.Count} of {load.Attempts} enqueues acknowledged");
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(d.Quick ? 60 : 180), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var m = await d.MeasureAsync(load, cancellationToken, sleepers);
        var completed = m.Jobs.Where(j => j.State == "completed").Select(j => j.Id).ToHashSet();
        var sleepersLost = sleepers.Where(id => !completed.Contains(id)).ToArray();
        var during = m.Jobs.Count(j => j.State == "completed" && j.FinishedAt > d.InjectedAt && (d.RecoveredAt is null || j.FinishedAt <= d.RecoveredAt));
        var survivors = workers.Skip(1).ToArray();
        return new ScenarioResult(m.Impact,
        [
            Check.That("its jobs are reclaimed within 15 s (detection time reported)", reclaimed is { } r && r <= TimeSpan.FromSeconds(15),
                $"{inFlight.Count} job(s) leased by {victim.Name} at the kill; declared dead after {(detected is { } t ? Promises.Seconds(t) : "never")}; jobs reclaimed after {(reclaimed is { } rr ? Promises.Seconds(rr) : "never (30 s)")}"),
            Check.That("all acknowledged jobs complete", settled && sleepersLost.Length == 0 && m.Tally.LostIds.Count == 0,
                $"{m.Impact.Completed} completed of {m.Impact.Acknowledged} acknowledged (including {sleepers.Count} demo.sleep); queue settled: {settled}"),
            Promises.NoneLost(m),
            await Promises.DuplicatesOnlyFromCrashesAsync(m, d.Api, [victim.Name], cancellationToken),
            Check.That("throughput continues on the survivors", during > 0 && survivors.All(s => !s.HasExited),
                $"{during} jobs completed between the kill and full recovery; survivors {string.Join(", ", survivors.Select(s => $"{s.Name} {(s.HasExited ? "EXITED" : "up")}"))}"),
        ]);
    }
}
