using Bulwark.GameDay.Api;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>13 poison-job: a job that kills every worker that runs it (<c>demo.crash</c>).</summary>
internal sealed class PoisonJobScenario : IScenario
{
    private const int MaxAttempts = 3;

    public string Name => "poison-job";

    public bool RunsOnPostgres => true;

    public string Injected => $"a demo.crash job (max_attempts {MaxAttempts}) that terminates every worker process running it, among steady load; crashed workers are restarted as an orchestrator would";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        await d.StartServerAsync(cancellationToken);
        var fleet = new Supervisor(d, 4);
        await fleet.StartAsync(["w1", "w2", "w3"], cancellationToken);
        var load = d.NewLoad();
        var loading = load.RunAsync(d.Quick ? 200 : 2000, 40, cancellationToken);

        var (answer, id) = await d.Api.EnqueueAsync(new { queue = Deployment.Queue, type = "demo.crash", payload = new { }, max_attempts = MaxAttempts }, cancellationToken);
        var poison = id ?? throw new InvalidOperationException($"enqueue of demo.crash refused: {answer.Status} {answer.Body}");
        d.Inject($"demo.crash job {poison} enqueued");

        JobDetail detail = await d.Api.GetJobAsync(poison, cancellationToken);
        var detected = false;
        await d.WaitUntilAsync(async ct =>
        {
            fleet.RestartExited();
            if (!detected && fleet.Exits.Count > 0)
            {
                detected = true;
                d.Mark("first detection", $"{fleet.Exits[0].Name} died running job {poison}");
            }

            detail = await d.Api.GetJobAsync(poison, ct);
            return detail.Job.State is "dead_letter" or "failed" or "completed" or "cancelled";
        }, TimeSpan.FromSeconds(60), cancellationToken);
        var quarantinedAt = d.Time.GetUtcNow();
        var crashesBefore = fleet.Exits.Count;
        d.Mark("automatic response", $"job {poison} is {detail.Job.State}: {detail.Job.Reason}");

        await loading;
        var settled = await d.WaitUntilAsync(async ct =>
        {
            fleet.RestartExited();
            var counts = await d.Api.QueueCountsAsync(Deployment.Queue, ct);
            return new[] { "pending", "scheduled", "ready", "running" }.All(s => counts.GetValueOrDefault(s) == 0);
        }, TimeSpan.FromSeconds(d.Quick ? 60 : 180), cancellationToken);
        fleet.RestartExited();
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var m = await d.MeasureAsync(load, cancellationToken);
        var crashesAfter = fleet.Exits.Count - crashesBefore;
        return new ScenarioResult(m.Impact,
        [
            Check.That($"after max_attempts ({MaxAttempts}) crashes it is quarantined in dead letter as poison",
                detail.Job.State == "dead_letter" && detail.Job.Reason?.Contains("poison", StringComparison.OrdinalIgnoreCase) == true && crashesBefore == MaxAttempts,
                $"state {detail.Job.State}, reason \"{detail.Job.Reason}\", {crashesBefore} worker process exit(s) before the quarantine ({string.Join(", ", fleet.Exits.Take(crashesBefore).Select(e => $"{e.Name} code {e.ExitCode}"))}); errors: {string.Join(", ", detail.Errors.Select(e => e.Category))}"),
            Check.That("the fleet stops crashing", crashesAfter == 0 && fleet.Current.All(w => !w.HasExited),
                $"{crashesAfter} worker exit(s) after the quarantine, through the end of the run"),
            Check.That("other jobs complete", settled && m.Tally.LostIds.Count == 0, $"{m.Impact.Completed - 0} completed of {load.Acks.Count} acknowledged demo.append jobs; queue settled: {settled}"),
            Promises.NoneLost(m),
            await Promises.DuplicatesOnlyFromCrashesAsync(m, d.Api, [.. fleet.Names], cancellationToken),
        ]);
    }
}
