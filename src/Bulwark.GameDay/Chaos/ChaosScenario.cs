using System.Globalization;
using Bulwark.GameDay.Reports;
using Bulwark.GameDay.Scenarios;

namespace Bulwark.GameDay.Chaos;

/// <summary>
/// 16 chaos: a randomized fault campaign. Each round draws a plan from its seed (round k of seed S uses seed S+k-1, so
/// <c>--runs 1 --seed S+k-1</c> replays it alone), runs it against a server and three workers on one store, and checks
/// the recorded history (<see cref="HistoryChecker"/>). A line of the report holds when it held in every round; the
/// evidence names the first round (and its seed) where it did not.
/// </summary>
internal sealed class ChaosScenario(int? runs = null, int? seed = null) : IScenario
{
    private static readonly string[] Workers = ["w1", "w2", "w3"];

    public string Name => "chaos";

    public bool RunsOnPostgres => true;

    public string Injected => $"a randomized campaign ({runs?.ToString(CultureInfo.InvariantCulture) ?? "default"} rounds, seed {seed?.ToString(CultureInfo.InvariantCulture) ?? "random"}): kill -9 of a worker or the server, SIGSTOP/SIGCONT of a worker, restarts, at moments drawn from the seed, under demo.trace load with cancels";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        var rounds = runs ?? (d.Quick ? 3 : 10);
        var first = seed ?? Random.Shared.Next(1, 1_000_000);
        d.Mark("campaign", $"seed {first}, {rounds} round(s); round k uses seed {first}+k-1 (replay one: bulwark gameday chaos --runs 1 --seed <its seed>{(d.Quick ? " --quick" : "")}{(d.Postgres is null ? "" : " --store <the same server>")})");
        var fleet = new ChaosFleet(d, Workers, 4);
        var verdicts = new Dictionary<string, (int Held, string? Failure, string? Last)>();
        var notes = new List<string>();
        long acknowledged = 0, completed = 0, failed = 0, deadLettered = 0, lost = 0, twice = 0, unanswered = 0, attempts = 0;
        var timer = d.Time.GetTimestamp();
        for (var k = 1; k <= rounds; k++)
        {
            var roundSeed = first + k - 1;
            var plan = ChaosPlan.Draw(roundSeed, d.Quick, Workers.Length);
            d.Mark("round", $"round {k} of {rounds}, seed {roundSeed}: {plan.Jobs.Count} jobs over {plan.LoadFor.TotalSeconds:0} s, faults {string.Join("; ", plan.Faults.Select(f => $"+{f.At.TotalSeconds:0.0}s {f.Kind}"))}");
            var round = new ChaosRound(d, fleet, plan, Path.Combine(d.Directory, $"round-{k:000}"));
            var history = await round.RunAsync(cancellationToken);
            var checks = HistoryChecker.Check(history);
            foreach (var check in checks)
            {
                var (held, failure, _) = verdicts.GetValueOrDefault(check.Line);
                verdicts[check.Line] = check.Passed
                    ? (held + 1, failure, check.Evidence)
                    : (held, failure ?? $"round {k} (seed {roundSeed}): {check.Evidence}", check.Evidence);
                d.Progress($"round {k} seed {roundSeed}: {(check.Passed ? "pass" : "FAIL")}: {check.Line} — {check.Evidence}");
            }

            var states = history.Finals.Where(f => history.Acks.Any(a => a.JobId == f.JobId)).GroupBy(f => f.State).ToDictionary(g => g.Key, g => g.LongCount());
            var runsPerJob = history.Executions.Where(e => e.Kind == "start").GroupBy(e => e.JobId).Count(g => g.Select(e => e.Epoch).Distinct().Count() > 1);
            acknowledged += history.Acks.Count;
            attempts += plan.Jobs.Count;
            unanswered += round.Unanswered;
            completed += states.GetValueOrDefault("completed");
            failed += states.GetValueOrDefault("failed");
            deadLettered += states.GetValueOrDefault("dead_letter");
            lost += history.Acks.Count(a => !history.Finals.Any(f => f.JobId == a.JobId));
            // Executed twice: the handler ran to its end more than once (at-least-once after a crash), not a retried failure.
            twice += history.Executions.Where(e => e.Kind == "finish").GroupBy(e => e.JobId).Count(g => g.Count() > 1);
            notes.Add($"Round {k} (seed {roundSeed}): {history.Acks.Count} acknowledged, {round.Unanswered} enqueue(s) unanswered, {history.Cancels.Count} cancel(s), {history.Executions.Count(e => e.Kind == "start")} executions ({runsPerJob} job(s) ran under more than one lease); settled: {round.Settled}; {(checks.All(c => c.Passed) ? "every line held" : "FAILED: " + string.Join(", ", checks.Where(c => !c.Passed).Select(c => c.Line)))}.");
        }

        var elapsed = d.Time.GetElapsedTime(timer);
        d.Recovered($"{rounds} round(s) in {elapsed.TotalSeconds:0} s");
        notes.Insert(0, $"Seed {first}, {rounds} round(s) in {elapsed.TotalSeconds:0} s ({elapsed.TotalSeconds / rounds:0.0} s a round); {acknowledged} of {attempts} enqueues acknowledged, {unanswered} unanswered (the server was down). Replay round k alone with `bulwark gameday chaos --runs 1 --seed {first}+k-1{(d.Quick ? " --quick" : "")}`; the plan (load, cancels, faults) replays exactly, the timing of the processes does not. Each round's history is in round-NNN/history.txt beside the workers' *.trace files.");
        var impact = new Impact
        {
            Enqueued = attempts,
            Acknowledged = acknowledged,
            Completed = completed,
            Lost = lost,
            ExecutedTwice = twice,
            Failed = failed,
            DeadLettered = deadLettered,
        };
        var result = verdicts.Select(v => Check.That(v.Key, v.Value.Failure is null,
            v.Value.Failure ?? $"held in all {rounds} round(s) (seed {first}); last round: {v.Value.Last}")).ToArray();
        return new ScenarioResult(impact, result, notes);
    }
}
