using System.Globalization;
using Bulwark.GameDay.Api;
using Bulwark.GameDay.Counting;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>5 overload: enqueue faster than the workers drain, past the queue's hard limit.</summary>
internal sealed class OverloadScenario : IScenario
{
    public string Name => "overload";

    public bool RunsOnPostgres => true;

    public string Injected => "enqueue with no worker running until the queue's hard limit (set to a small number) answers 429; then one worker drains the backlog";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        var limit = d.Quick ? 200 : 2000;
        var urgent = limit / 10;
        d.ConfigureServer("Bulwark__Server__DefaultHardLimit", limit.ToString(CultureInfo.InvariantCulture));
        d.ConfigureServer("Bulwark__Server__DepthSampleInterval", "1s");
        await d.StartServerAsync(cancellationToken);
        var load = d.NewLoad();

        // Low priority first, then a few urgent ones, then low priority again until the hard limit refuses.
        d.Inject($"burst: no worker running, hard limit {limit}");
        await load.RunAsync(limit / 2, 500, cancellationToken);
        var urgentSeqs = new List<long>();
        for (var i = 0; i < urgent; i++)
        {
            await load.EnqueueOneAsync(10, cancellationToken);
            urgentSeqs.Add(load.Acks[^1].Seq);
        }

        ApiAnswer refusal = new(0, "", null);
        var accepted = load.Acks.Count;
        for (var i = 0; i < limit; i++)
        {
            refusal = await load.EnqueueOneAsync(0, cancellationToken);
            if (!refusal.Succeeded)
            {
                break;
            }
        }

        d.Mark("first detection", $"enqueue #{load.Attempts} answered {refusal.Status} with Retry-After {refusal.RetryAfter ?? "(none)"} after {load.Acks.Count} acknowledged");
        string depthLine = "";
        var depthSeen = await d.WaitUntilAsync(async ct =>
        {
            var metrics = await d.Api.GetAsync("metrics", ct);
            depthLine = metrics.Body.Split('\n').FirstOrDefault(l => l.StartsWith("bulwark_queue_depth", StringComparison.Ordinal) && l.Contains(Deployment.Queue, StringComparison.Ordinal) && l.Contains("ready", StringComparison.Ordinal)) ?? "";
            return depthLine.Length > 0 && double.TryParse(depthLine.Split(' ')[^1], CultureInfo.InvariantCulture, out var depth) && depth >= limit;
        }, TimeSpan.FromSeconds(20), cancellationToken);

        var w1 = d.StartWorker("w1", 1);
        await d.WaitForWorkerAsync(w1, cancellationToken);
        d.Mark("automatic response", "one worker (1 slot) starts draining the backlog");
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(d.Quick ? 90 : 600), cancellationToken);
        if (settled)
        {
            d.Recovered("the backlog drained");
        }

        // The limiter may count the backlog from its last depth sample: wait for enqueue to be accepted again.
        (ApiAnswer Answer, long? Id) afterwards = (new ApiAnswer(0, "", null), null);
        var drainedAt = d.Time.GetTimestamp();
        await d.WaitUntilAsync(async ct => (afterwards = await d.Api.EnqueueAsync(new { queue = Deployment.Queue, type = "demo.noop", payload = new { } }, ct)).Id is not null, TimeSpan.FromSeconds(30), cancellationToken);
        var reopenedAfter = d.Time.GetElapsedTime(drainedAt);
        var m = await d.MeasureAsync(load, cancellationToken);
        var lines = ExecutionTally.ReadLines(d.AppendPath).Take(urgent).Select(l => long.Parse(l, CultureInfo.InvariantCulture)).ToHashSet();
        var urgentFirst = lines.SetEquals(urgentSeqs);
        return new ScenarioResult(m.Impact,
        [
            Check.That("enqueue keeps succeeding up to the hard limit, and not one past it", load.Acks.Count == limit && load.Refusals.Count == 1,
                $"{load.Acks.Count} acknowledged before the first refusal (hard limit {limit}); refusals: {string.Join(", ", load.Refusals.Select(r => $"{r.Value}× {r.Key}"))}"),
            Check.That("then 429 with Retry-After", refusal.Status == 429 && refusal.RetryAfter is not null, $"answer {refusal.Status}, Retry-After {refusal.RetryAfter ?? "(missing)"}: {refusal.Body}"),
            Check.That("higher priority jobs start first", urgentFirst,
                $"the first {urgent} executions (lines of the append file) {(urgentFirst ? "are exactly" : "are not")} the {urgent} priority-10 jobs enqueued after {limit / 2} priority-0 ones"),
            Check.That("depth metrics show the backlog", depthSeen, depthLine.Length > 0 ? $"/metrics: {depthLine.Trim()}" : "no bulwark_queue_depth line for the queue"),
            Promises.NoneLost(m),
            Check.That("the backlog drains afterwards", settled && afterwards.Id is not null,
                $"queue settled: {settled}; enqueue accepted again {Promises.Seconds(reopenedAfter)} after the drain (answer {afterwards.Answer.Status})"),
        ]);
    }
}
