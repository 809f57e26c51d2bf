using Bulwark.GameDay.Api;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>4 stuck-job: a handler hangs (<c>demo.hang</c>) and ignores its token.</summary>
internal sealed class StuckJobScenario : IScenario
{
    public string Name => "stuck-job";

    public string Injected => "a demo.hang job (timeout 2s, 2 attempts, fixed(1s) backoff) that ignores cancellation, among steady load";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        await d.StartServerAsync(cancellationToken);
        var w1 = d.StartWorker("w1", 2, "--abandon-grace", "1s");
        await d.WaitForWorkerAsync(w1, cancellationToken);
        var load = d.NewLoad();
        var loading = load.RunAsync(d.Quick ? 150 : 1000, 20, cancellationToken);

        var (answer, id) = await d.Api.EnqueueAsync(new { queue = Deployment.Queue, type = "demo.hang", payload = new { }, timeout = "2s", max_attempts = 2, backoff = "fixed(1s)" }, cancellationToken);
        var hang = id ?? throw new InvalidOperationException($"enqueue of demo.hang refused: {answer.Status} {answer.Body}");
        d.Inject($"demo.hang job {hang} enqueued");

        JobDetail detail = await d.Api.GetJobAsync(hang, cancellationToken);
        var detected = false;
        await d.WaitUntilAsync(async ct =>
        {
            detail = await d.Api.GetJobAsync(hang, ct);
            if (!detected && detail.Errors.Count > 0)
            {
                detected = true;
                d.Mark("first detection", $"attempt 1 ended {detail.Errors[0].Category}: {detail.Errors[0].Message}");
            }

            return detail.Job.State is "dead_letter" or "failed" or "completed" or "cancelled";
        }, TimeSpan.FromSeconds(40), cancellationToken);
        d.Mark("automatic response", $"job {hang} is {detail.Job.State} after {detail.Job.Attempt} attempt(s): {detail.Job.Reason}");
        var deadLetteredAt = d.Time.GetUtcNow();

        await loading;
        var freed = await d.WaitUntilAsync(async ct => (await d.Api.WorkersAsync(ct)).Any(w => w.Name == "w1" && w.State == "active" && w.ActiveJobs == 0), TimeSpan.FromSeconds(30), cancellationToken);
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(60), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state; w1 has no active job");
        }

        var m = await d.MeasureAsync(load, cancellationToken);
        var firstStart = detail.Errors.FirstOrDefault()?.StartedAt ?? d.InjectedAt!.Value;
        var flowedMeanwhile = m.Jobs.Count(j => j.State == "completed" && j.FinishedAt > firstStart && j.FinishedAt < deadLetteredAt);
        var durations = detail.Errors.Select(e => e.StartedAt is { } s ? (e.EndedAt - s).TotalSeconds : -1).ToArray();
        var gap = detail.Errors.Count >= 2 && detail.Errors[1].StartedAt is { } second ? (second - detail.Errors[0].EndedAt).TotalSeconds : -1;
        var abandoned = w1.LinesContaining("abandoned");
        return new ScenarioResult(m.Impact,
        [
            Check.That("it is cancelled at its execution timeout, recorded as Timeout", detail.Errors.Count > 0 && detail.Errors.All(e => e.Category == "timeout") && durations.All(s => s is >= 1.9 and < 8),
                $"errors: {string.Join("; ", detail.Errors.Select((e, i) => $"attempt {e.Attempt} {e.Category} after {durations[i]:0.00} s"))}; worker log: {abandoned.FirstOrDefault() ?? "(no abandon line)"}"),
            Check.That("retried with backoff", detail.Errors.Count >= 2 && gap >= 0.9, $"attempt 2 started {gap:0.00} s after attempt 1 ended (backoff fixed(1s))"),
            Check.That("dead-lettered after its attempts", detail.Job.State == "dead_letter" && detail.Job.Attempt == 2, $"state {detail.Job.State}, attempt {detail.Job.Attempt} of 2, reason: {detail.Job.Reason}"),
            Check.That("the worker's slot is freed and other jobs keep flowing", freed && settled && flowedMeanwhile > 0 && !w1.HasExited,
                $"{flowedMeanwhile} other jobs completed while the hang was stuck; w1 reported 0 active jobs afterwards: {freed}; w1 process up: {!w1.HasExited}"),
            Promises.NoneLost(m),
        ]);
    }
}
