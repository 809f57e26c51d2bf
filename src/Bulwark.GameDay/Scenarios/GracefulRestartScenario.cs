using Bulwark.GameDay.Api;
using Bulwark.GameDay.Processes;
using Bulwark.GameDay.Reports;

namespace Bulwark.GameDay.Scenarios;

/// <summary>7 graceful-restart: SIGTERM a worker while it runs jobs, then start it again.</summary>
internal sealed class GracefulRestartScenario : IScenario
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(2);

    public string Name => "graceful-restart";

    public bool RunsOnPostgres => true;

    public string Injected => "SIGTERM to a worker running 10 s jobs and short ones (shutdown timeout 2 s), then the same worker started again";

    public async Task<ScenarioResult> RunAsync(Deployment d, CancellationToken cancellationToken)
    {
        var jobs = d.Quick ? 300 : 3000;
        await d.StartServerAsync(cancellationToken);
        var w1 = d.StartWorker("w1", 6, "--shutdown-timeout", "2s", "--abandon-grace", "1s");
        await d.WaitForWorkerAsync(w1, cancellationToken);

        // Sleepers longer than the shutdown timeout, taken by w1 before w2 exists: the drain must release them, not finish them.
        var sleepers = await FleetWatch.EnqueueSleepersAsync(d.Api, 4, 10_000, cancellationToken);
        IReadOnlyList<JobRow> inFlight = [];
        if (!await d.WaitUntilAsync(async ct => (inFlight = await FleetWatch.RunningUnderAsync(d.Api, "w1", ct)).Count(j => sleepers.Contains(j.Id)) == sleepers.Count, TimeSpan.FromSeconds(30), cancellationToken))
        {
            throw new InvalidOperationException($"set-up: w1 did not start the {sleepers.Count} long jobs within 30 s");
        }

        var w2 = d.StartWorker("w2", 6);
        await d.WaitForWorkerAsync(w2, cancellationToken);
        var load = d.NewLoad();
        d.Mark("steady load", $"{jobs} demo.append jobs at 60/s over 2 workers × 6 slots; w1 also runs 4 demo.sleep(10000ms) jobs");
        var loading = load.RunAsync(jobs, 60, cancellationToken);
        await d.WaitUntilAsync(_ => Task.FromResult(load.Acks.Count > jobs / 4), TimeSpan.FromSeconds(30), cancellationToken);
        inFlight = await FleetWatch.RunningUnderAsync(d.Api, "w1", cancellationToken);

        w1.Signal(PosixSignals.SigTerm);
        d.Inject($"SIGTERM to w1 (pid {w1.ProcessId}) with {inFlight.Count} job(s) running (ids {Promises.Ids([.. inFlight.Select(j => j.Id)])})");
        var injectedAt = d.InjectedAt!.Value;
        var leasedDuringDrain = new HashSet<long>();
        var exited = false;
        await d.WaitUntilAsync(async ct =>
        {
            foreach (var job in await FleetWatch.RunningUnderAsync(d.Api, "w1", ct))
            {
                if (job.StartedAt > injectedAt.AddMilliseconds(200))
                {
                    leasedDuringDrain.Add(job.Id);
                }
            }

            return exited = w1.HasExited;
        }, ShutdownTimeout + TimeSpan.FromSeconds(20), cancellationToken);
        var exitCode = exited ? w1.ExitCode : (int?)null;
        d.Mark("first detection", $"w1 logged: {w1.LinesContaining("Draining").FirstOrDefault() ?? "(no drain line)"}");
        d.Mark("automatic response", $"w1 exited {(exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "not at all")}; logged: {w1.LinesContaining("released").FirstOrDefault() ?? "(no release line)"}");

        var restarted = d.StartWorker("w1", 6, "--shutdown-timeout", "2s");
        await d.WaitForWorkerAsync(restarted, cancellationToken);
        d.Restored("worker restarted", $"w1 started again (pid {restarted.ProcessId})");

        // More one-second jobs than w2 has slots: the restarted w1 must take some if it carries on.
        var probes = await FleetWatch.EnqueueSleepersAsync(d.Api, 12, 1000, cancellationToken);
        var carriedOn = await d.WaitUntilAsync(async ct => (await FleetWatch.RunningUnderAsync(d.Api, "w1", ct)).Count > 0, TimeSpan.FromSeconds(15), cancellationToken);
        await loading;
        var settled = await d.WaitForSettledAsync(TimeSpan.FromSeconds(d.Quick ? 60 : 180), cancellationToken);
        if (settled)
        {
            d.Recovered("every job of the queue reached an end state");
        }

        var m = await d.MeasureAsync(load, cancellationToken, [.. sleepers, .. probes]);
        var released = new List<string>();
        var charged = new List<long>();
        foreach (var job in inFlight.Where(j => sleepers.Contains(j.Id)))
        {
            var detail = await d.Api.GetJobAsync(job.Id, cancellationToken);
            var shutdown = detail.Errors.Where(e => e.Category == "shutdown").ToArray();
            released.Add($"{job.Id}: {shutdown.Length} shutdown record(s), attempt {detail.Job.Attempt}, {detail.Job.State}");
            if (shutdown.Length == 0 || detail.Job.Attempt != 1 + detail.Errors.Count(e => e.Category != "shutdown"))
            {
                charged.Add(job.Id);
            }
        }

        var completed = m.Jobs.Where(j => j.State == "completed").Select(j => j.Id).ToHashSet();
        return new ScenarioResult(m.Impact,
        [
            Check.That("it stops leasing", leasedDuringDrain.Count == 0,
                leasedDuringDrain.Count == 0 ? "no job started under w1 after the SIGTERM (polled until it exited)" : $"w1 started jobs after SIGTERM: ids {Promises.Ids([.. leasedDuringDrain])}"),
            Check.That("it finishes what fits in the shutdown timeout, releases the rest (category Shutdown, attempt not charged)", charged.Count == 0 && released.Count > 0,
                $"long jobs w1 held: {string.Join("; ", released)}"),
            Check.That("it exits 0", exitCode == 0, $"exit code {(exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none: still running after the timeout")}"),
            Check.That("no job lost", settled && m.Tally.LostIds.Count == 0 && sleepers.All(completed.Contains),
                $"{m.Impact.Completed} of {m.Impact.Acknowledged} acknowledged jobs completed; lost: {m.Tally.LostIds.Count}"),
            Promises.NoDuplicates(m),
            Check.That("the restarted worker carries on", carriedOn && !restarted.HasExited, carriedOn ? "the restarted w1 leased and ran jobs (seen running under it)" : "the restarted w1 was never seen running a job"),
        ]);
    }
}
