using Bulwark.GameDay.Api;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>10 malformed-payload: invalid JSON and schema at the API; handlers that signal permanent failure.</summary>
internal sealed class MalformedPayloadScenario : IScenario
{
    private static readonly (string What, string Body)[] BadRequests =
    [
        ("invalid JSON", "{\"queue\": \"gameday\", \"type\": "),
        ("unknown field", "{\"queue\":\"gameday\",\"type\":\"demo.noop\",\"payload\":{},\"colour\":\"red\"}"),
        ("missing type", "{\"queue\":\"gameday\",\"payload\":{}}"),
        ("bad queue name", "{\"queue\":\"Bad Queue!\",\"type\":\"demo.noop\",\"payload\":{}}"),
        ("priority not a number", "{\"queue\":\"gameday\",\"type\":\"demo.noop\",\"payload\":{},\"priority\":\"high\"}"),
        ("bad backoff", "{\"queue\":\"gameday\",\"type\":\"demo.noop\",\"payload\":{},\"backoff\":\"sometimes\"}"),
        ("body not an object", "[1, 2, 3]"),
    ];

    public string Name => "malformed-payload";

    public string Injected => $"{BadRequests.Length} malformed enqueue requests; a job whose handler signals permanent failure; a payload its handler cannot read";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        await d.StartServerAsync(cancellationToken);
        var w1 = d.StartWorker("w1", 4);
        await d.WaitForWorkerAsync(w1, cancellationToken);
        var load = d.NewLoad();
        await load.RunAsync(d.Quick ? 50 : 500, 50, cancellationToken);
        var before = (await d.Api.ListJobsAsync(Deployment.Queue, null, cancellationToken)).Count;

        d.Inject($"{BadRequests.Length} malformed requests, then two jobs that cannot succeed");
        var answers = new List<(string What, ApiAnswer Answer)>();
        foreach (var (what, body) in BadRequests)
        {
            answers.Add((what, await d.Api.PostJsonAsync("api/v1/jobs", body, cancellationToken)));
        }

        var after = (await d.Api.ListJobsAsync(Deployment.Queue, null, cancellationToken)).Count;
        d.Mark("first detection", $"{answers.Count(a => a.Answer.Status == 400)} of {answers.Count} refused with 400");

        var (_, permanentId) = await d.Api.EnqueueAsync(new { queue = Deployment.Queue, type = "demo.fail", payload = new { times = 5, category = "permanent" }, max_attempts = 3 }, cancellationToken);
        var (_, unreadableId) = await d.Api.EnqueueAsync(new { queue = Deployment.Queue, type = "demo.sleep", payload = new { ms = "soon" }, max_attempts = 3 }, cancellationToken);
        var ids = new[] { permanentId ?? 0, unreadableId ?? 0 };
        await d.WaitUntilAsync(async ct =>
        {
            foreach (var id in ids)
            {
                if ((await d.Api.GetJobAsync(id, ct)).Job.State is "ready" or "running" or "scheduled" or "pending")
                {
                    return false;
                }
            }

            return true;
        }, TimeSpan.FromSeconds(30), cancellationToken);
        var permanent = await d.Api.GetJobAsync(ids[0], cancellationToken);
        var unreadable = await d.Api.GetJobAsync(ids[1], cancellationToken);
        d.Mark("automatic response", $"job {permanent.Job.Id} {permanent.Job.State} after attempt {permanent.Job.Attempt}; job {unreadable.Job.Id} {unreadable.Job.State} after attempt {unreadable.Job.Attempt}");
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(30), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var m = await d.MeasureAsync(load, cancellationToken, ids);
        var badAnswers = answers.Where(a => a.Answer.Status != 400 || !a.Answer.Body.Contains("\"detail\"", StringComparison.Ordinal)).ToArray();
        static bool FailedOnce(JobDetail j) => j.Job.State == "failed" && j.Job.Attempt == 1 && j.Errors.Count == 1 && j.Errors[0].Category == "permanent" && j.Errors[0].Message.Length > 0;
        return new ScenarioResult(m.Impact,
        [
            Check.That("invalid input gets 400 with a message", badAnswers.Length == 0,
                string.Join("; ", answers.Select(a => $"{a.What}: {a.Answer.Status} {Detail(a.Answer.Body)}"))),
            Check.That("invalid input is not stored", after == before, $"{before} jobs in the queue before the malformed requests, {after} after"),
            Check.That("permanent failures go straight to Failed with their error kept, no retry", FailedOnce(permanent) && FailedOnce(unreadable),
                $"PermanentJobException: {Describe(permanent)}; unreadable payload: {Describe(unreadable)}"),
            Promises.NoneLost(m),
        ]);
    }

    private static string Describe(JobDetail j) =>
        $"job {j.Job.Id} {j.Job.State}, attempt {j.Job.Attempt}, errors [{string.Join("; ", j.Errors.Select(e => $"{e.Category}: {e.Message}"))}]";

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
}
