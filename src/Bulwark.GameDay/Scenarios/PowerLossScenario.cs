using System.Globalization;
using System.Text.RegularExpressions;
using Bulwark.GameDay.Counting;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>2 power-loss: <c>kill -9</c> every process (server and workers) mid-load, then start them again.</summary>
internal sealed partial class PowerLossScenario : IScenario
{
    public string Name => "power-loss";

    public bool RunsOnPostgres => true;

    public string Injected => "SIGKILL of the server and both workers at once mid-load, then all started again on the same store";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        var jobs = d.Quick ? 300 : 3000;
        await d.StartServerAsync(cancellationToken);
        var workers = new[] { d.StartWorker("w1", 6), d.StartWorker("w2", 6) };
        foreach (var w in workers)
        {
            await d.WaitForWorkerAsync(w, cancellationToken);
        }

        var sleepers = await FleetWatch.EnqueueSleepersAsync(d.Api, 6, 3000, cancellationToken);
        var load = d.NewLoad();
        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        d.Mark("steady load", $"{jobs} demo.append jobs at 60/s and 6 demo.sleep(3000ms) jobs over 2 workers × 6 slots");
        var loading = load.RunAsync(jobs, 60, stopLoad.Token);
        await d.WaitUntilAsync(async ct => load.Acks.Count > jobs / 3 && (await d.Api.ListJobsAsync(Deployment.Queue, "running", ct)).Count > 0, TimeSpan.FromSeconds(30), cancellationToken);

        d.Server!.KillHard();
        foreach (var w in workers)
        {
            w.KillHard();
        }

        d.Inject($"kill -9 of server (pid {d.Server.ProcessId}) and workers {string.Join(", ", workers.Select(w => $"{w.Name} (pid {w.ProcessId})"))}");
        await stopLoad.CancelAsync();
        try
        {
            await loading;
        }
        catch (OperationCanceledException)
        {
            // The generator stops when the power goes; what it had acknowledged is the promise to check.
        }

        foreach (var w in workers.Append(d.Server))
        {
            await w.WaitForExitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        }

        var (integrity, interrupted) = d.Postgres is { } database
            ? await database.CheckAsync(cancellationToken)
            : await StoreIntegrity.CheckAsync(d.StorePath, cancellationToken);
        d.Mark("store checked", $"every Bulwark process down: integrity {integrity}; {interrupted.Count} job(s) marked running (ids {Promises.Ids(interrupted)})");

        await d.StartServerAsync(cancellationToken);
        var all = await d.Api.ListJobsAsync(Deployment.Queue, null, cancellationToken);
        var present = all.Select(j => j.Id).ToHashSet();
        d.Mark("first detection", $"server back; {all.Count(j => j.State == "running")} job(s) still marked running under dead leases; {all.Count} jobs in the store");

        var restarted = new[] { d.StartWorker("w1", 6), d.StartWorker("w2", 6) };
        foreach (var w in restarted)
        {
            await d.WaitForWorkerAsync(w, cancellationToken);
        }

        await d.WaitUntilAsync(_ => Task.FromResult(restarted.All(w => w.LinesContaining("Recovery completed").Count > 0)), TimeSpan.FromSeconds(20), cancellationToken);
        await d.WaitUntilAsync(async ct => !(await d.Api.ListJobsAsync(Deployment.Queue, "running", ct)).Any(j => interrupted.Contains(j.Id) && j.StartedAt < d.InjectedAt), TimeSpan.FromSeconds(20), cancellationToken);

        // Reclaims are logged by the restarted workers ("Recovery completed, N jobs reclaimed") and by any maintenance pass
        // that got there first ("Reclaimed N stalled jobs"); together they must account for every interrupted job.
        var recoveryLines = new List<string>();
        var logged = 0;
        foreach (var process in restarted.Append(d.Server))
        {
            foreach (var line in process.LinesContaining("Recovery completed").Concat(process.LinesContaining("stalled jobs")))
            {
                var match = ReclaimedCount().Match(line);
                var count = match.Success ? int.Parse(match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value, CultureInfo.InvariantCulture) : 0;
                if (count > 0 || line.Contains("Recovery completed", StringComparison.Ordinal))
                {
                    recoveryLines.Add($"{process.Name}: {line[(line.IndexOf(']', StringComparison.Ordinal) + 1)..].Trim()}");
                    logged += count;
                }
            }
        }

        d.Mark("automatic response", recoveryLines.Count > 0 ? string.Join(" / ", recoveryLines) : "no worker logged a recovery");
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(d.Quick ? 60 : 180), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var m = await d.MeasureAsync(load, cancellationToken, sleepers);
        var missing = load.Acks.Select(a => a.Id).Concat(sleepers).Where(id => !present.Contains(id)).ToArray();
        var stillRunning = m.Jobs.Where(j => interrupted.Contains(j.Id) && j.State == "running" && j.StartedAt < d.InjectedAt).Select(j => j.Id).ToArray();
        return new ScenarioResult(m.Impact,
        [
            Check.That("every acknowledged job is present after restart", missing.Length == 0,
                missing.Length == 0 ? $"all {load.Acks.Count + sleepers.Count} acknowledged ids found in the store after the restart ({all.Count} jobs there)" : $"missing after restart: ids {Promises.Ids(missing)}"),
            Check.That("the interrupted Running jobs are reclaimed at start-up and the log says how many", stillRunning.Length == 0 && restarted.All(w => w.LinesContaining("Recovery completed").Count > 0) && logged == interrupted.Count,
                $"{interrupted.Count} job(s) were running at the power loss; the restarted workers logged {logged} reclaimed ({string.Join(" / ", recoveryLines)}); still running under a lease from before: {stillRunning.Length}"),
            Check.That("the store passes its integrity check", integrity.StartsWith("ok", StringComparison.Ordinal),
                d.Postgres is null ? $"PRAGMA integrity_check: {integrity}" : $"the database server kept running (in a fleet it is another machine): {integrity}"),
            Check.That("all complete", settled && m.Tally.LostIds.Count == 0 && sleepers.All(id => m.Jobs.Any(j => j.Id == id && j.State == "completed")),
                $"{m.Impact.Completed} completed of {m.Impact.Acknowledged} acknowledged; queue settled: {settled}"),
            Promises.NoneLost(m),
            await Promises.DuplicatesOnlyFromCrashesAsync(m, d.Api, ["w1", "w2"], cancellationToken),
        ]);
    }

    [GeneratedRegex(@"(?:Recovery completed, (\d+) jobs reclaimed|Reclaimed (\d+) stalled jobs)")]
    private static partial Regex ReclaimedCount();
}
