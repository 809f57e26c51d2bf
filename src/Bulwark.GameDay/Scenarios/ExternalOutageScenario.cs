using Bulwark.GameDay.Api;
using Bulwark.GameDay.Counting;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>
/// 9 external-outage: the dependency of a handler is down, then returns. The dependency is a real one: the folder
/// <c>demo.append</c> writes into does not exist (the handler fails with an I/O error), then the harness creates it.
/// </summary>
internal sealed class ExternalOutageScenario : IScenario
{
    private const int MaxAttempts = 3;

    public string Name => "external-outage";

    public string Injected => $"demo.append jobs whose target folder (their dependency) is missing, max_attempts {MaxAttempts}, exponential(500ms) backoff; the folder is created later and the dead letters retried";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        await d.StartServerAsync(cancellationToken);
        var w1 = d.StartWorker("w1", 4);
        await d.WaitForWorkerAsync(w1, cancellationToken);
        var dependency = Path.Combine(d.Directory, "dependency");
        var target = Path.Combine(dependency, "executions.log");
        var load = d.NewLoad(target);
        var healthy = d.NewLoad();
        var count = d.Quick ? 12 : 100;
        using var stopHealthy = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var healthyLoading = healthy.RunAsync(int.MaxValue, 40, stopHealthy.Token);
        d.Inject($"dependency down: {dependency} does not exist; {count} jobs need it, among healthy demo.append load at 40/s");
        for (var i = 0; i < count; i++)
        {
            // Spread out among healthy jobs of the same type: five failures of a type in a row open its circuit breaker
            // (the worker's own defence, which would pause every demo.append for 30 s).
            await Task.Delay(TimeSpan.FromMilliseconds(250), d.Time, cancellationToken);
            var seq = 1_000_000 + i;
            var (answer, id) = await d.Api.EnqueueAsync(new
            {
                queue = Deployment.Queue, type = "demo.append", payload = new { path = target, line = seq.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                max_attempts = MaxAttempts, backoff = "exponential(500ms,10s,0)",
            }, cancellationToken);
            if (id is null)
            {
                throw new InvalidOperationException($"enqueue refused: {answer.Status} {answer.Body}");
            }

            load.Acknowledged(seq, id.Value);
        }

        var ids = load.Acks.Select(a => a.Id).ToArray();
        var detected = false;
        var exhausted = await d.WaitUntilAsync(async ct =>
        {
            var counts = await d.Api.QueueCountsAsync(Deployment.Queue, ct);
            if (!detected && counts.GetValueOrDefault("scheduled") + counts.GetValueOrDefault("dead_letter") > 0)
            {
                detected = true;
                d.Mark("first detection", "the first attempts failed and were scheduled for retry");
            }

            return counts.GetValueOrDefault("dead_letter") == count;
        }, TimeSpan.FromSeconds(60), cancellationToken);
        d.Mark("automatic response", $"{(exhausted ? "all" : "not all")} {count} jobs dead-lettered after {MaxAttempts} attempts");
        var sample = new List<JobDetail>();
        foreach (var id in ids)
        {
            sample.Add(await d.Api.GetJobAsync(id, cancellationToken));
        }

        Directory.CreateDirectory(dependency);
        d.Mark("dependency back", $"{dependency} created");
        await stopHealthy.CancelAsync();
        try
        {
            await healthyLoading;
        }
        catch (OperationCanceledException)
        {
            // The healthy load only had to keep flowing while the dependency was down.
        }

        // The CLI's admin commands talk to the store (a SQLite file is safe to share between processes).
        var (exit, output) = await d.RunCliAsync(["dlq", "retry-all", Deployment.Queue, "--store", d.StorePath], cancellationToken);
        d.Restored("operator action", $"bulwark dlq retry-all {Deployment.Queue} → exit {exit}: {output.Trim()}");
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(60), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var m = await d.MeasureAsync(healthy, cancellationToken, ids);
        var dependent = ExecutionTally.From(load.Acks, ExecutionTally.ReadLines(target), m.Jobs.Where(j => j.State == "completed").Select(j => j.Id).ToHashSet());
        var notTemporary = sample.Where(j => j.Errors.Count != MaxAttempts || j.Errors.Any(e => e.Category != "temporary")).Select(j => j.Job.Id).ToArray();
        var breaker = w1.LinesContaining("Circuit for job type");
        string[] notes = breaker.Count == 0
            ? ["The circuit breaker of demo.append stayed closed: healthy jobs of the same type kept succeeding between the failures."]
            : [$"The circuit breaker opened (the worker's own defence; see the external-outage runbook): {string.Join(" / ", breaker)}"];
        var gaps = sample.Select(j => j.Errors.Zip(j.Errors.Skip(1), (a, b) => b.StartedAt is { } s ? (s - a.EndedAt).TotalSeconds : -1).ToArray()).ToArray();
        // The policy promises at least base × 2^n before attempt n+2 (no jitter here); pick-up latency may only add to it.
        var notExponential = sample.Where((j, i) => gaps[i].Length != MaxAttempts - 1 || gaps[i].Where((g, n) => g < 0.5 * Math.Pow(2, n) * 0.95).Any()).Select(j => j.Job.Id).ToArray();
        return new ScenarioResult(m.Impact,
        [
            Check.That("failures are Temporary", notTemporary.Length == 0,
                notTemporary.Length == 0 ? $"each job recorded {MaxAttempts} temporary errors, e.g. \"{sample[0].Errors[0].Message}\"" : $"other categories or counts: ids {Promises.Ids(notTemporary)}"),
            Check.That("with exponential backoff", notExponential.Length == 0,
                $"waits between attempts of job {sample[0].Job.Id}: {string.Join(", ", gaps[0].Select(g => $"{g:0.00} s"))} (at least 0.5 s, then 1 s: base 500 ms, doubling); {notExponential.Length} job(s) waited less"),
            Check.That("jobs that exhausted attempts sit in dead letter", exhausted && sample.All(j => j.Job.State == "dead_letter"),
                $"{sample.Count(j => j.Job.State == "dead_letter")} of {count} in dead_letter before the dependency came back"),
            Check.That("`dlq retry-all` after recovery completes them all", exit == 0 && settled && dependent.LostIds.Count == 0 && dependent.NeverExecutedIds.Count == 0,
                $"retry-all exit {exit}: {output.Trim()}; {count - dependent.LostIds.Count} of {count} completed; lines in the dependency's file: {ExecutionLines(target)}"),
            Check.That("no job of the dependency executed twice", dependent.DuplicatedIds.Count == 0, $"{dependent.DuplicatedIds.Count} line(s) repeated in the dependency's file"),
            Check.That("other jobs keep flowing (and nothing acknowledged is lost)", m.Tally.LostIds.Count == 0 && healthy.Acks.Count > 0,
                $"{healthy.Acks.Count} healthy demo.append jobs enqueued during the outage, {m.Tally.LostIds.Count} not completed"),
        ], notes);
    }

    private static int ExecutionLines(string path) => File.Exists(path) ? File.ReadAllLines(path).Length : 0;
}
