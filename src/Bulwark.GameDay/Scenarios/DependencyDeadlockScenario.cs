using Bulwark.GameDay.Api;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>
/// 6 dependency-deadlock: a flow with a cycle (<c>POST /flows</c>), a chain
/// whose root fails permanently, a dependent enqueued after its parent failed, a dependent past its lifetime, and an
/// unknown dependency.
/// </summary>
internal sealed class DependencyDeadlockScenario : IScenario
{
    public string Name => "dependency-deadlock";

    public string Injected => "a flow with a cycle; a chain whose root fails permanently; a dependent enqueued after its parent failed; a dependent past its 2 s lifetime; an unknown dependency";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        await d.StartServerAsync(cancellationToken);
        var w1 = d.StartWorker("w1", 4);
        await d.WaitForWorkerAsync(w1, cancellationToken);

        var jobsBefore = (await d.Api.ListJobsAsync(Deployment.Queue, null, cancellationToken)).Count;
        var cycle = await FlowSubmission.SubmitAsync(d.Api, [("extract", ["publish"]), ("render", ["extract"]), ("publish", ["render"])], cancellationToken);
        var jobsAfterCycle = (await d.Api.ListJobsAsync(Deployment.Queue, null, cancellationToken)).Count;
        var unknown = await d.Api.PostJsonAsync("api/v1/jobs", """{"queue":"gameday","type":"demo.noop","payload":{},"depends_on":[999999]}""", cancellationToken);
        var root = await EnqueueAsync(d, new { queue = Deployment.Queue, type = "demo.fail", payload = new { times = 9, category = "permanent" } }, cancellationToken);
        var child = await EnqueueAsync(d, new { queue = Deployment.Queue, type = "demo.noop", payload = new { }, depends_on = new[] { root } }, cancellationToken);
        var grandchild = await EnqueueAsync(d, new { queue = Deployment.Queue, type = "demo.noop", payload = new { }, depends_on = new[] { child } }, cancellationToken);
        var slow = await EnqueueAsync(d, new { queue = Deployment.Queue, type = "demo.sleep", payload = new { ms = 8000 } }, cancellationToken);
        var expiring = await EnqueueAsync(d, new { queue = Deployment.Queue, type = "demo.noop", payload = new { }, depends_on = new[] { slow }, lifetime = "2s" }, cancellationToken);
        d.Inject($"root {root} (fails permanently) ← {child} ← {grandchild}; {expiring} waits on a 8 s job {slow} with a 2 s lifetime");

        var detected = false;
        await d.WaitUntilAsync(async ct =>
        {
            var states = await StatesAsync(d.Api, [root, child, grandchild, expiring], ct);
            if (!detected && states[root] == "failed")
            {
                detected = true;
                d.Mark("first detection", $"root {root} failed permanently");
            }

            return states[child] == "dead_letter" && states[grandchild] == "dead_letter" && states[expiring] == "dead_letter";
        }, TimeSpan.FromSeconds(30), cancellationToken);
        d.Mark("automatic response", "dependents of the failed root and the expired dependent resolved");

        var late = await EnqueueAsync(d, new { queue = Deployment.Queue, type = "demo.noop", payload = new { }, depends_on = new[] { root } }, cancellationToken);
        await d.WaitUntilAsync(async ct => (await d.Api.GetJobAsync(late, ct)).Job.State != "pending", TimeSpan.FromSeconds(10), cancellationToken);
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(30), cancellationToken);
        if (settled)
        {
            d.Recovered("no job waits any more");
        }

        var details = new Dictionary<long, JobDetail>();
        foreach (var id in new[] { root, child, grandchild, expiring, late, slow })
        {
            details[id] = await d.Api.GetJobAsync(id, cancellationToken);
        }

        var pending = (await d.Api.ListJobsAsync(Deployment.Queue, "pending", cancellationToken)).Select(j => j.Id).ToArray();
        var load = d.NewLoad();
        var m = await d.MeasureAsync(load, cancellationToken, [root, child, grandchild, slow, expiring, late]);
        string Show(long id) => $"{id} {details[id].Job.State} (\"{details[id].Job.Reason}\")";
        bool Dead(long id) => details[id].Job.State == "dead_letter" && !string.IsNullOrWhiteSpace(details[id].Job.Reason);
        return new ScenarioResult(m.Impact,
        [
            Check.That("the cycle is refused at submission with the cycle named",
                cycle.Status == 400 && cycle.Body.Contains("cycle", StringComparison.Ordinal) && new[] { "extract", "render", "publish" }.All(n => cycle.Body.Contains(n, StringComparison.Ordinal)) && jobsAfterCycle == jobsBefore,
                $"POST /flows extract → publish → render → extract: {cycle.Status} {Detail(cycle.Body)}; jobs in the queue {jobsBefore} before, {jobsAfterCycle} after"),
            Check.That("an impossible dependency is refused at submission, naming it", unknown.Status == 400 && unknown.Body.Contains("999999", StringComparison.Ordinal) && root == 1,
                $"answer {unknown.Status}: {unknown.Body}; the next job stored got id {root} (nothing was stored for the refused one)"),
            Check.That("the blocked dependents end in dead letter with the reason", Dead(child) && Dead(grandchild) && Dead(late),
                $"{Show(child)}; {Show(grandchild)}; enqueued after the root failed: {Show(late)}"),
            Check.That("a dependent past its lifetime ends in dead letter with the reason", Dead(expiring), Show(expiring)),
            Check.That("nothing stays Pending forever", pending.Length == 0 && settled, pending.Length == 0 ? "no job pending at the end" : $"still pending: {Promises.Ids(pending)}"),
        ]);
    }

    private static string Detail(string body)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            return document.RootElement.TryGetProperty("detail", out var detail) ? $"\"{detail.GetString()}\"" : body;
        }
        catch (System.Text.Json.JsonException)
        {
            return body;
        }
    }

    private static async Task<long> EnqueueAsync(Deployment d, object job, CancellationToken cancellationToken)
    {
        var (answer, id) = await d.Api.EnqueueAsync(job, cancellationToken);
        return id ?? throw new InvalidOperationException($"enqueue refused: {answer.Status} {answer.Body}");
    }

    private static async Task<Dictionary<long, string>> StatesAsync(BulwarkApi api, long[] ids, CancellationToken cancellationToken)
    {
        var states = new Dictionary<long, string>();
        foreach (var id in ids)
        {
            states[id] = (await api.GetJobAsync(id, cancellationToken)).Job.State;
        }

        return states;
    }
}
