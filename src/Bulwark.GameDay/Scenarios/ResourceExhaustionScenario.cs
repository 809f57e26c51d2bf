using Bulwark.GameDay.Api;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>8 resource-exhaustion: an oversized payload; a worker past its soft memory limit (<c>demo.alloc</c>).</summary>
internal sealed class ResourceExhaustionScenario : IScenario
{
    private const int LimitMb = 200;
    private const int AllocMb = 320;

    public string Name => "resource-exhaustion";

    public string Injected => $"a 1.2 MiB payload; a demo.alloc job taking {AllocMb} MiB for 4 s in a worker whose soft memory limit is {LimitMb} MiB, under steady load";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        await d.StartServerAsync(cancellationToken);
        var w1 = d.StartWorker("w1", 2, "--memory-limit-mb", LimitMb.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await d.WaitForWorkerAsync(w1, cancellationToken);

        var before = (await d.Api.ListJobsAsync(Deployment.Queue, null, cancellationToken)).Count;
        var oversized = System.Text.Json.JsonSerializer.Serialize(new { queue = Deployment.Queue, type = "demo.noop", payload = new { blob = new string('x', 1_200_000) } });
        d.Inject("a 1.2 MiB payload, then a demo.alloc job past the worker's memory limit");
        var tooLarge = await d.Api.PostJsonAsync("api/v1/jobs", oversized, cancellationToken);
        var after = (await d.Api.ListJobsAsync(Deployment.Queue, null, cancellationToken)).Count;
        d.Mark("first detection", $"oversized payload answered {tooLarge.Status}");

        var (answer, id) = await d.Api.EnqueueAsync(new { queue = Deployment.Queue, type = "demo.alloc", payload = new { mb = AllocMb, ms = 4000 } }, cancellationToken);
        var alloc = id ?? throw new InvalidOperationException($"enqueue of demo.alloc refused: {answer.Status} {answer.Body}");
        await d.WaitUntilAsync(async ct => (await FleetWatch.RunningUnderAsync(d.Api, "w1", ct)).Any(j => j.Id == alloc), TimeSpan.FromSeconds(30), cancellationToken);

        // A second worker without a limit carries the load while w1 holds back.
        var w2 = d.StartWorker("w2", 4);
        await d.WaitForWorkerAsync(w2, cancellationToken);
        var load = d.NewLoad();
        var loading = load.RunAsync(d.Quick ? 200 : 1000, 40, cancellationToken);
        var paused = await d.WaitUntilAsync(_ => Task.FromResult(w1.LinesContaining("leasing paused").Count > 0), TimeSpan.FromSeconds(20), cancellationToken);
        var pausedAt = d.Time.GetUtcNow();
        d.Mark("automatic response", w1.LinesContaining("leasing paused").FirstOrDefault() ?? "w1 never logged that it paused leasing");

        // While w1 is over its limit, nothing new may start under it.
        var leasedWhilePaused = new HashSet<long>();
        await d.WaitUntilAsync(async ct =>
        {
            if (w1.LinesContaining("leasing resumed").Count == 0)
            {
                foreach (var job in await FleetWatch.RunningUnderAsync(d.Api, "w1", ct))
                {
                    if (job.Id != alloc && job.StartedAt > pausedAt)
                    {
                        leasedWhilePaused.Add(job.Id);
                    }
                }
            }

            return (await d.Api.GetJobAsync(alloc, ct)).Job.State == "completed";
        }, TimeSpan.FromSeconds(30), cancellationToken);

        // Over the limit the worker forces a full collection at most every 10 s: once the heavy job's memory is garbage,
        // the next one gives it back and leasing resumes.
        var resumedInTime = await d.WaitUntilAsync(_ => Task.FromResult(w1.LinesContaining("leasing resumed").Count > 0), TimeSpan.FromSeconds(20), cancellationToken);
        await loading;
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(60), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var resumed = w1.LinesContaining("leasing resumed");
        var m = await d.MeasureAsync(load, cancellationToken, [alloc]);
        var allocJob = await d.Api.GetJobAsync(alloc, cancellationToken);
        return new ScenarioResult(m.Impact,
        [
            Check.That("the oversized payload is refused before persistence (413)", tooLarge.Status == 413, $"answer {tooLarge.Status}: {tooLarge.Body}"),
            Check.That("nothing is stored for it", after == before, $"{before} jobs in the queue before, {after} after"),
            Check.That("the worker stops leasing while over its soft limit", paused && leasedWhilePaused.Count == 0,
                $"w1 logged: {w1.LinesContaining("leasing paused").FirstOrDefault() ?? "(nothing)"}; jobs started under w1 while paused: {leasedWhilePaused.Count}; {(resumed.Count > 0 ? $"then: {resumed[0]}" : "no resume logged")}"),
            Check.That("it resumes leasing once the heavy job ended (a forced collection gives the memory back)", resumedInTime,
                resumed.Count > 0 ? $"w1 logged: {resumed[0]}" : "w1 logged no resume within 20 s of the heavy job's end"),
            Check.That("other jobs keep flowing and the memory-heavy job completes", settled && allocJob.Job.State == "completed" && !w1.HasExited,
                $"demo.alloc {allocJob.Job.State}; w1 {(w1.HasExited ? "EXITED" : "up")}; queue settled: {settled}"),
            Promises.NoneLost(m),
            Promises.NoDuplicates(m),
        ], ["The OS killing a worker for memory is scenario 1 (worker-crash): its guarantees are checked there, with kill -9."]);
    }
}
